#pragma once
#include <string>
#include <string_view>

namespace argus {

// Lower-case hex SHA-256 of bytes / of a file's content ("" if unreadable).
std::string Sha256Hex(std::string_view data);
std::string Sha256File(const std::string& path);

}  // namespace argus
