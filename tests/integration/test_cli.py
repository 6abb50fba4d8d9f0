"""The command line: unknown commands, actions and flags are usage errors
(exit 2) with a suggestion; per-command help; start-up failures exit 3 and
say what failed."""
import re
import socket
import subprocess
import unittest

from harness import ARGUS_BIN, MODEL_DIR, free_port, temp_dir


def argus(*args, timeout=60):
    return subprocess.run([ARGUS_BIN, *args], capture_output=True, text=True, timeout=timeout)


class UsageErrors(unittest.TestCase):
    def test_mistyped_flag_is_refused_with_suggestion(self):
        run = argus("serve", "--prot", "1")
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("unknown flag --prot", run.stderr)
        self.assertIn("did you mean --port", run.stderr)

    def test_mistyped_flag_of_an_image_command(self):
        run = argus("detect-faces", "--atributes", "ALL", "x.jpg")
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("did you mean --attributes", run.stderr)
        self.assertEqual(run.stdout, "")

    def test_flag_of_another_command_is_refused(self):
        # --similarity-threshold belongs to compare-faces.
        run = argus("detect-faces", "--similarity-threshold", "90", "x.jpg")
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("unknown flag --similarity-threshold", run.stderr)

    def test_mistyped_command_suggests_without_the_whole_help(self):
        run = argus("detec-faces")
        self.assertEqual(run.returncode, 2)
        self.assertIn("did you mean 'detect-faces'", run.stderr)
        self.assertNotIn("Commands:", run.stderr)
        self.assertLessEqual(len(run.stderr.splitlines()), 3, run.stderr)

    def test_mistyped_action_suggests(self):
        run = argus("keys", "creat")
        self.assertEqual(run.returncode, 2)
        self.assertIn("did you mean 'create'", run.stderr)

    def test_unrelated_word_gets_no_suggestion(self):
        run = argus("zzzzzzzzzz")
        self.assertEqual(run.returncode, 2)
        self.assertNotIn("did you mean", run.stderr)

    def test_a_number_flag_refuses_words(self):
        # Not a silent fall-back to port 8080.
        run = argus("serve", "--port", "abc")
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("--port: needs a whole number, got 'abc'", run.stderr)
        run = argus("collections", "faces", "c", "--max", "1.5")
        self.assertEqual(run.returncode, 2, run.stderr)

    def test_missing_flag_value(self):
        run = argus("serve", "--port")
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("--port", run.stderr)


class Help(unittest.TestCase):
    def test_serve_help_lists_serve_flags_only(self):
        run = argus("serve", "--help")
        self.assertEqual(run.returncode, 0, run.stderr)
        for flag in ("--port", "--host", "--data-dir", "--no-auth", "--log-format"):
            self.assertIn(flag, run.stdout)
        for foreign in ("--similarity-threshold", "--attributes", "--org-type", "--concurrency"):
            self.assertNotIn(foreign, run.stdout)

    def test_overview_lists_commands_and_exit_codes(self):
        run = argus("--help")
        self.assertEqual(run.returncode, 0)
        self.assertIn("detect-faces", run.stdout)
        self.assertIn("Exit codes", run.stdout)

    def test_every_action_has_help(self):
        overview = argus("--help").stdout
        commands = re.findall(r"^  ([a-z][a-z-]*) ", overview, re.M)
        self.assertIn("collections", commands)
        checked = 0
        for command in commands:
            group = argus(command, "--help")
            self.assertEqual(group.returncode, 0, command)
            actions = re.findall(r"^  ([a-z][a-z-]*)", group.stdout.split("Actions:")[1], re.M) \
                if "Actions:" in group.stdout else [None]
            for action in actions:
                args = [command] + ([action] if action else []) + ["--help"]
                run = argus(*args)
                self.assertEqual(run.returncode, 0, args)
                self.assertIn("usage: argus " + " ".join(args[:-1]), run.stdout)
                checked += 1
        self.assertGreater(checked, 30)


class ProgressReport(unittest.TestCase):
    def test_collections_index_reports_plain_lines_off_a_terminal(self):
        import os
        from harness import FACEAPI_DEMO
        data, images = temp_dir("argus-cli-"), temp_dir("argus-cli-img-")
        for i in range(3):
            os.symlink(os.path.join(FACEAPI_DEMO, "sample%d.jpg" % (i + 1)),
                       os.path.join(images, "p%d.jpg" % i))
        with open(os.path.join(images, "broken.jpg"), "wb") as f:
            f.write(b"not an image")
        common = ["--data-dir", data, "--model-dir", MODEL_DIR]
        self.assertEqual(argus("collections", "create", "c", *common).returncode, 0)
        run = argus("collections", "index", "c", images, *common, timeout=300)
        self.assertEqual(run.returncode, 1, run.stderr)  # one image failed
        lines = run.stderr.splitlines()
        self.assertNotIn("\r", run.stderr)  # stderr is a pipe: no redrawn bar
        progress = [l for l in lines if l.startswith("index c: ")]
        self.assertEqual(progress[-1].split()[2], "4/4", lines)
        self.assertRegex(progress[-1], r"\(\d+(\.\d)?/s, ETA \d+s\)")
        self.assertTrue(any("broken.jpg" in l for l in lines), lines)
        self.assertIn('"ImagesFailed": 1', run.stdout)


class BenchModelsMemory(unittest.TestCase):
    # Figures, not limits: each runtime's row is measured in a child process
    # and reports a positive resident size and a ratio.
    def test_memory_row_per_runtime(self):
        run = argus("bench", "models", "--memory", "--only", "human_liveness",
                    "--model-dir", MODEL_DIR, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        rows = [l.split() for l in run.stdout.splitlines() if l.startswith("human_liveness")]
        self.assertEqual(len(rows), 1, run.stdout)
        name, file_mb, onednn, onednn_peak, opencv, opencv_peak, ratio = rows[0]
        self.assertGreater(float(file_mb), 0)
        self.assertGreater(float(onednn), 0)
        self.assertGreater(float(opencv), 0)
        self.assertAlmostEqual(float(ratio.rstrip("x")), float(onednn) / float(opencv), delta=0.02)

    def test_memory_of_an_unknown_model_fails(self):
        run = argus("bench", "models", "--memory-of", "no_such_model", "--backend", "onednn",
                    "--model-dir", MODEL_DIR)
        self.assertEqual(run.returncode, 2)
        self.assertIn("no model no_such_model", run.stderr)


class StartupFailures(unittest.TestCase):
    def serve(self, *args):
        return argus("serve", "--no-auth", "--model-dir", MODEL_DIR, *args, timeout=120)

    def test_port_in_use(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            run = self.serve("--port", str(port), "--data-dir", temp_dir("argus-cli-"))
        self.assertEqual(run.returncode, 3, run.stderr)
        self.assertIn("cannot listen on 127.0.0.1:%d: Address already in use" % port, run.stderr)

    def test_data_dir_cannot_be_made(self):
        run = self.serve("--port", str(free_port()), "--data-dir", "/proc/argus-nope")
        self.assertEqual(run.returncode, 3, run.stderr)
        self.assertIn("/proc/argus-nope", run.stderr)
        self.assertIn("No such file or directory", run.stderr)

    def test_models_missing(self):
        empty = temp_dir("argus-models-")
        run = argus("serve", "--no-auth", "--model-dir", empty, "--port", str(free_port()),
                    "--data-dir", temp_dir("argus-cli-"), timeout=120)
        self.assertEqual(run.returncode, 3, run.stderr)
        self.assertIn(empty, run.stderr)


if __name__ == "__main__":
    unittest.main()
