// Built only by the ctest layers.compile, in a target that links argus_index:
// core/ headers are on its include path, store/ headers are not, so this
// file must fail to compile at the second include.
#include "core/status.h"
#include "store/store.h"
