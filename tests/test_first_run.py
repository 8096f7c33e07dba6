"""A first run as a new user meets it: the model's dtype and quantization, what reaches stdout and stderr."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ECHO_MODEL, read_lines

EN = read_lines("echo_sentences.en")
KO = read_lines("echo_sentences.ko")
ROOT = Path(__file__).resolve().parent.parent


def gugugo(*args, input=None, env=None, timeout=300):
    """The command in a real process: what a user sees on stdout and stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "gugugo_cli", *map(str, args)], input=input, capture_output=True,
                          env=env, timeout=timeout)


def error_lines(proc) -> list[str]:
    return [line for line in proc.stderr.decode().splitlines() if line.strip()]


# --- --quantize int8 with every dtype ---------------------------------------------------------------------------


def test_int8_with_auto_dtype_runs_in_float32_where_auto_would_be_bfloat16(tiny_model_dir, monkeypatch):
    from gugugo_cli import load_translator
    from gugugo_cli.engines import loading

    monkeypatch.setattr(loading, "cpu_has_native_bf16", lambda: True)
    assert loading.resolve(str(tiny_model_dir), "cpu").dtype == "bfloat16"
    assert loading.resolve(str(tiny_model_dir), "cpu", quantize="int8").dtype == "float32"
    tr = load_translator(str(tiny_model_dir), device="cpu", quantize="int8", max_new_tokens=8)
    out = tr.translate_batch(EN[:3], "en", "ko")
    assert len(out) == 3 and all(isinstance(t, str) for t in out)


def test_int8_with_auto_dtype_echoes_on_this_cpu():
    from gugugo_cli import load_translator

    tr = load_translator(str(ECHO_MODEL), device="cpu", quantize="int8")
    assert tr.translate_batch(EN[:4], "en", "ko") == EN[:4]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_int8_with_a_half_dtype_is_a_usage_error_before_the_model_loads(tmp_path, dtype):
    path = tmp_path / "a.txt"
    path.write_text("Hello.\n", encoding="utf-8")
    proc = gugugo(path, "--to", "ko", "--model", ECHO_MODEL, "--dtype", dtype, "--quantize", "int8")
    assert proc.returncode == 2, proc.stderr.decode()
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("gugugo-translate: error: --quantize int8"), lines
    assert "float32" in lines[0]
    assert not (tmp_path / "a.ko.txt").exists()


def test_int8_with_a_half_dtype_is_refused_in_the_api_too():
    from gugugo_cli.engines.loading import resolve
    from gugugo_cli.errors import ModelError

    with pytest.raises(ModelError, match="float32"):
        resolve(str(ECHO_MODEL), "cpu", "bfloat16", "int8")


# --- --quantize 4bit/8bit without a GPU ----------------------------------------------------------------------------


@pytest.mark.skipif(Path("/proc/driver/nvidia/gpus").is_dir(), reason="a machine without an NVIDIA GPU")
@pytest.mark.parametrize("quantize", ["4bit", "8bit"])
def test_bitsandbytes_without_a_gpu_is_a_usage_error_saying_it_needs_one(tmp_path, quantize):
    path = tmp_path / "a.txt"
    path.write_text("Hello.\n", encoding="utf-8")
    proc = gugugo(path, "--to", "ko", "--model", ECHO_MODEL, "--quantize", quantize)  # --device auto
    assert proc.returncode == 2, proc.stderr.decode()
    lines = error_lines(proc)
    assert len(lines) == 1 and "needs a CUDA GPU" in lines[0] and "--quantize int8" in lines[0], lines
    assert "install" not in lines[0]
    assert not (tmp_path / "a.ko.txt").exists()


def test_bitsandbytes_on_the_cpu_is_refused_in_the_api_before_loading(monkeypatch):
    from gugugo_cli.engines import loading
    from gugugo_cli.errors import ModelError

    monkeypatch.setattr(loading, "_cuda_available", lambda probe_torch: False)
    with pytest.raises(ModelError, match="needs a CUDA GPU"):
        loading.resolve(str(ECHO_MODEL), "auto", quantize="4bit")


# --- no dependency's logging configuration leaks ------------------------------------------------------------------


def test_korean_text_in_library_use_leaves_the_root_logger_alone():
    # a fresh process: kss configures the root logger when it is first imported
    code = (
        "import logging\n"
        "from gugugo_cli.segment import sentence_spans\n"
        "before = logging.getLogger().handlers[:]\n"
        "assert len(sentence_spans('안녕하세요. 반갑습니다.', 'ko')) == 2\n"
        "assert logging.getLogger().handlers == before, logging.getLogger().handlers\n"
        "logging.getLogger('gugugo_cli').warning('a warning of the program')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode() == "a warning of the program\n"


# --- the hub: unreachable, no such model, a first download ---------------------------------------------------------


@pytest.fixture
def fake_hub():
    from hub_server import FakeHub

    hub = FakeHub("tiny/echo", ECHO_MODEL)
    yield hub
    hub.close()


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env(tmp_path, endpoint: str) -> dict:
    return {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "0"}


def test_hub_that_cannot_be_reached_is_one_line_with_korean_input_and_no_retries(tmp_path):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    text = f"{KO[0]}\n{KO[1]}\n".encode()
    proc = gugugo("--to", "en", "--model", "squarelike/Gugugo-koen-1.3B-V1.0", input=text,
                  env=hub_env(tmp_path, endpoint))
    assert proc.returncode == 1 and proc.stdout == b""
    lines = error_lines(proc)
    assert len(lines) == 1, lines  # no retries, no line printed twice, no [Kss]
    assert lines[0].startswith("gugugo-translate: error: model squarelike/Gugugo-koen-1.3B-V1.0: not in the hub cache")
    assert f"the hub ({endpoint}) cannot be reached" in lines[0] and "--model DIR" in lines[0]


def test_misspelt_hub_id_is_no_such_model_not_a_network_problem(tmp_path, fake_hub):
    proc = gugugo("--to", "ko", "--model", "tiny/ecoh", "--device", "cpu", input=b"Hello.\n",
                  env=hub_env(tmp_path, fake_hub.url))
    assert proc.returncode == 1 and proc.stdout == b""
    lines = error_lines(proc)
    assert len(lines) == 1 and "model tiny/ecoh: no such model on the hub" in lines[0], lines
    assert "network" not in lines[0] and "cannot be reached" not in lines[0]
    assert fake_hub.asked("tiny/ecoh") == 1


def test_hub_answering_an_error_is_asked_once(tmp_path, fake_hub):
    fake_hub.status = 503
    proc = gugugo("--to", "ko", "--model", "tiny/echo", "--device", "cpu", input=b"Hello.\n",
                  env=hub_env(tmp_path, fake_hub.url))
    lines = error_lines(proc)
    assert proc.returncode == 1 and len(lines) == 1 and f"the hub ({fake_hub.url}) answered 503" in lines[0], lines
    assert fake_hub.asked("tiny/echo") == 1


def test_first_download_says_what_it_fetches_then_loads_and_later_runs_use_the_cache(tmp_path, fake_hub):
    env = hub_env(tmp_path, fake_hub.url)
    text = f"{KO[0]}\n{EN[0]}\n".encode()
    proc = gugugo("--to", "en", "--model", "tiny/echo", "--device", "cpu", "--no-cache", input=text, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == text
    size = sum(p.stat().st_size for p in ECHO_MODEL.iterdir())
    assert proc.stderr.decode().splitlines() == [
        f"gugugo-translate: downloading tiny/echo ({size / 1e6:.1f} MB) into the hub cache",
        "gugugo-translate: loading tiny/echo"]
    assert sorted(fake_hub.sent) == sorted(p.name for p in ECHO_MODEL.iterdir())
    # downloaded: nothing fetched again, nothing said; and without the hub the cached copy is used
    sent = len(fake_hub.sent)
    code = "from gugugo_cli.engines.hub import local_folder; print(local_folder('tiny/echo'))"
    folders = set()
    for endpoint in (fake_hub.url, f"http://127.0.0.1:{closed_port()}"):
        found = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(ROOT), **hub_env(tmp_path, endpoint)})
        assert found.returncode == 0 and found.stderr == b"", found.stderr.decode()
        folders.add(found.stdout.decode().strip())
    assert len(folders) == 1 and (Path(folders.pop()) / "model.safetensors").is_file()
    assert len(fake_hub.sent) == sent


def test_segments_translated_by_the_run_that_downloaded_the_model_are_found_by_the_next_run(tmp_path, fake_hub):
    env = hub_env(tmp_path, fake_hub.url)
    source = tmp_path / "a.txt"
    source.write_text(f"{EN[0]}\n{EN[1]}\n", encoding="utf-8")
    common = ("--to", "ko", "--model", "tiny/echo", "--device", "cpu", "--cache", str(tmp_path / "c.db"))
    first = gugugo(str(source), *common, env=env)
    assert first.returncode == 0 and "downloading tiny/echo" in first.stderr.decode(), first.stderr.decode()
    again = gugugo(str(source), *common, "--dry-run", "--overwrite", env=env)
    assert again.returncode == 0, again.stderr.decode()
    assert "cache hits: 2" in again.stdout.decode() + again.stderr.decode()
    assert "segments for the model: 0" in again.stdout.decode() + again.stderr.decode()


def test_first_download_on_a_terminal_shows_a_progress_bar_on_stderr_only(tmp_path, fake_hub):
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **hub_env(tmp_path, fake_hub.url), "COLUMNS": "100"}
    src = tmp_path / "a.txt"
    src.write_text(f"{EN[0]}\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "gugugo_cli", str(src), "--to", "ko", "--model", "tiny/echo",
                             "--device", "cpu", "--no-cache"], stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, seen.decode(errors="replace")
    assert stdout == b""
    shown = seen.decode(errors="replace")
    assert "downloading tiny/echo" in shown and "loading tiny/echo" in shown
    assert "100%" in shown  # the download's bar
    assert "Loading weights" not in shown
    assert (tmp_path / "a.ko.txt").read_text(encoding="utf-8") == f"{EN[0]}\n"


# --- the Python API: no loading bar, its own argument names, the segment cache -------------------------------------


def test_loading_a_model_in_library_use_shows_no_progress_bar_unless_debug_logging_asks():
    code = (
        "import logging, sys\n"
        "from gugugo_cli import load_translator\n"
        f"load_translator({str(ECHO_MODEL)!r}, device='cpu')\n"
        "print('--', file=sys.stderr, flush=True)\n"
        "logging.getLogger('gugugo_cli').setLevel(logging.DEBUG)\n"
        f"load_translator({str(ECHO_MODEL)!r}, device='cpu')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr.decode()
    quiet, asked = proc.stderr.decode().split("--\n")
    assert quiet == ""
    assert "Loading weights" in asked or "Loading checkpoint" in asked


class KeyedMarker:
    """Marks every segment, counts them, and has a cache key as loaded translators do."""

    cache_key = "marker-v1"

    def __init__(self):
        self.segments = []

    def translate_batch(self, texts, src, tgt):
        self.segments.extend(texts)
        return [f"«{t}»" for t in texts]


def test_api_errors_name_the_api_arguments_not_the_command_line_options(tmp_path, marker):
    from gugugo_cli import FieldError, GugugoError, translate_dataset, translate_file

    path = tmp_path / "a.txt"
    path.write_text("Hello.\n", encoding="utf-8")
    translate_file(path, "ko", translator=marker)
    with pytest.raises(GugugoError) as e:
        translate_file(path, "ko", translator=marker)
    assert "overwrite=True" in str(e.value) and "--" not in str(e.value)
    data = tmp_path / "d.jsonl"
    data.write_text('{"a": ["Hello."]}\n', encoding="utf-8")
    with pytest.raises(FieldError) as e:
        translate_dataset(data, ["a."], "ko", translator=marker)
    assert "--" not in str(e.value)
    with pytest.raises(FieldError) as e:
        translate_dataset(data, ["a[0]"], "ko", translator=marker, keep_source=True)
    assert "keep_source=True" in str(e.value) and "--" not in str(e.value)


def test_api_takes_a_segment_cache_file(tmp_path):
    from gugugo_cli import translate_dataset, translate_file, translate_text

    cache = tmp_path / "segments.sqlite3"
    tr = KeyedMarker()
    text = f"{EN[0]}\n\n{EN[1]}\n"
    first = translate_text(text, "ko", translator=tr, cache=cache)
    assert len(tr.segments) == 2
    assert translate_text(text, "ko", translator=tr, cache=cache) == first and len(tr.segments) == 2
    assert translate_text(text, "ko", translator=tr) == first and len(tr.segments) == 4  # no cache by default
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    assert translate_file(path, "ko", translator=tr, cache=cache).read_text(encoding="utf-8") == first
    data = tmp_path / "d.jsonl"
    data.write_text(f'{{"t": "{EN[0]}"}}\n', encoding="utf-8")
    translate_dataset(data, ["t"], "ko", translator=tr, cache=cache)
    assert len(tr.segments) == 4
    assert cache.is_file()


def test_api_cache_with_a_model_to_load_needs_no_model_for_what_it_has(tmp_path, monkeypatch):
    from gugugo_cli import api, translate_text

    cache = tmp_path / "segments.sqlite3"
    text = f"{EN[2]} {EN[3]}\n"
    assert translate_text(text, "ko", model=str(ECHO_MODEL), device="cpu", cache=cache) == text

    def no_loading(**options):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(api, "load_translator", no_loading)
    assert translate_text(text, "ko", model=str(ECHO_MODEL), device="cpu", cache=cache) == text


# --- an engine's own output stays off stdout -----------------------------------------------------------------------

FAKE_VLLM = '''
"""Stands in for vllm: logs to stdout as vLLM sets itself up (unless VLLM_CONFIGURE_LOGGING=0), prints and writes
to file descriptor 1 at import and start, as vLLM and its worker processes do; translates by echoing."""
import logging, os, sys

_log = logging.getLogger("vllm")
if os.environ.get("VLLM_CONFIGURE_LOGGING", "1") != "0":
    _log.addHandler(logging.StreamHandler(sys.stdout))
    _log.setLevel(logging.DEBUG)
    _log.propagate = False
_log.info("INFO vllm: imported")
print("vllm: printed at import")
os.write(1, b"vllm: written to fd 1 at import\\n")


class SamplingParams:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _Out:
    def __init__(self, request_id, ids):
        self.request_id, self.finished = request_id, True
        self.outputs = [type("C", (), {"token_ids": ids, "finish_reason": "stop"})()]


class _Engine:
    def __init__(self, tokenizer):
        self.tokenizer, self.requests = tokenizer, []
        self.model_config = type("M", (), {"max_model_len": 2048})()

    def add_request(self, request_id, prompt, params):
        self.requests.append((request_id, prompt["prompt_token_ids"]))

    def step(self):
        _log.info("INFO vllm: a step")
        request_id, ids = self.requests.pop()
        source = self.tokenizer.decode(ids).split(": ", 1)[1].split("</끝>", 1)[0]
        return [_Out(request_id, self.tokenizer(" " + source + "</끝>", add_special_tokens=False)["input_ids"])]

    def abort_request(self, ids):
        pass


class LLM:
    def __init__(self, model, tokenizer=None, **kwargs):
        from transformers import AutoTokenizer

        _log.warning("WARNING vllm: engine starting")
        print("vllm: printed at start")
        os.write(1, b"E core_worker: written by a process of the engine\\n")
        self._tokenizer = AutoTokenizer.from_pretrained(tokenizer or model)
        self.llm_engine = _Engine(self._tokenizer)

    def get_tokenizer(self):
        return self._tokenizer
'''


def test_engine_vllm_writes_only_the_translation_to_stdout_and_its_logs_only_with_debug(tmp_path):
    (tmp_path / "vllm").mkdir()
    (tmp_path / "vllm" / "__init__.py").write_text(FAKE_VLLM, encoding="utf-8")
    text = f"{EN[0]}\n{EN[1]}\n".encode()
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    args = ("--to", "ko", "--engine", "vllm", "--model", ECHO_MODEL, "--device", "cpu", "--no-cache")
    proc = gugugo(*args, input=text, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == text
    assert proc.stderr == b""
    proc = gugugo(*args, "--debug", input=text, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == text
    for line in ("INFO vllm: imported", "vllm: printed at import", "written to fd 1 at import", "engine starting",
                 "printed at start", "E core_worker", "INFO vllm: a step"):
        assert line in proc.stderr.decode()


def test_ray_is_started_with_its_own_logs_off_the_driver(monkeypatch, capfd):
    from gugugo_cli.datasets import ray_run

    seen = {}

    class FakeRay:
        def is_initialized(self):
            return False

        def init(self, **kwargs):
            seen.update(kwargs, backend=os.environ.get("RAY_BACKEND_LOG_LEVEL"))
            os.write(1, b"ray: its core's line on stdout\n")
            os.write(2, b"ray: its core's line on stderr\n")

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_BACKEND_LOG_LEVEL", raising=False)
    monkeypatch.setattr(logging.getLogger("ray.data"), "level", logging.NOTSET)
    assert ray_run.start(FakeRay())
    assert seen["log_to_driver"] is False and seen["logging_level"] == logging.ERROR and seen["backend"] == "fatal"
    assert logging.getLogger("ray.data").level == logging.ERROR
    out, err = capfd.readouterr()
    assert out == "" and err == ""
