"""gugugo-serve: the LibreTranslate and DeepL v2 APIs, called with their own client libraries, on one shared
engine; overload, bad bodies, huge bodies and wrong keys are refused in the API's own shape."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("starlette")
pytest.importorskip("multipart")
uvicorn = pytest.importorskip("uvicorn")
deepl = pytest.importorskip("deepl")
libretranslatepy = pytest.importorskip("libretranslatepy")
requests = pytest.importorskip("requests")

from conftest import MarkTranslator  # noqa: E402
from gugugo_cli.safety import Limits  # noqa: E402
from gugugo_cli.serve.app import Settings, create_app  # noqa: E402


class Server:
    """The app on 127.0.0.1 at a free port, served by uvicorn in a thread."""

    def __init__(self, translator, **settings):
        self.app = create_app(translator, Settings(**settings))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)

    @property
    def state(self):
        return self.app.state.gugugo

    def post(self, path, **kw):
        return requests.post(self.url + path, timeout=30, **kw)

    def alive(self):
        """The server still answers, and still translates."""
        assert requests.get(self.url + "/health", timeout=10).json()["status"] == "ok"
        r = self.post("/translate", json={"q": "Still here.", "source": "en", "target": "ko"})
        assert r.status_code == 200 and r.json()["translatedText"] in ("«Still here.»", "Still here.")

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve():
    servers = []

    def start(translator=None, **settings):
        servers.append(Server(translator or MarkTranslator(), **settings))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def echo_server(echo_translator):
    server = Server(echo_translator)
    yield server
    server.stop()


SRT = ("1\n00:00:01,000 --> 00:00:02,500\nThe meeting starts at nine.\n\n"
       "2\n00:00:03,000 --> 00:00:04,000\nPlease bring your notes.\n").encode()


def _docx(paragraphs) -> bytes:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _docx_texts(data: bytes) -> list[str]:
    import docx

    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


# --- the clients' view, on the echo model ---------------------------------------------------------------------

def test_libretranslate_client_on_echo_model(echo_server):
    lt = libretranslatepy.LibreTranslateAPI(echo_server.url)
    text = "The sky is blue. The grass is green.\n\nA second paragraph."
    assert lt.translate(text, "en", "ko") == text  # the echo model answers with its source, layout kept
    assert lt.translate("오늘은 날씨가 좋다.", "auto", "en") == "오늘은 날씨가 좋다."
    assert {(l["code"], tuple(l["targets"])) for l in lt.languages()} == {("ko", ("en",)), ("en", ("ko",))}
    assert lt.detect("안녕하세요, 반갑습니다.")[0]["language"] == "ko"
    assert lt.detect("Good morning.")[0]["language"] == "en"


def test_deepl_client_on_echo_model(echo_server):
    translator = deepl.Translator("any-key", server_url=echo_server.url)
    results = translator.translate_text(["Good morning.", "오늘은 날씨가 좋다."], target_lang="EN-US")
    # English stays as it is (already the target language); the echo model gives the Korean back
    assert [r.text for r in results] == ["Good morning.", "오늘은 날씨가 좋다."]
    assert [r.detected_source_lang for r in results] == ["EN", "KO"]
    html = translator.translate_text("<p>Hello world.</p>", target_lang="KO", tag_handling="html")
    assert html.text == "<p>Hello world.</p>"
    assert {l.code for l in translator.get_target_languages()} == {"EN-GB", "EN-US", "KO"}
    assert {l.code for l in translator.get_source_languages()} == {"EN", "KO"}
    assert translator.get_usage().character.count >= len("Good morning.")


def test_deepl_client_translates_docx_and_srt_on_echo_model(echo_server, tmp_path):
    translator = deepl.Translator("any-key", server_url=echo_server.url)
    paragraphs = ["The report is ready.", "It has three parts."]
    (tmp_path / "report.docx").write_bytes(_docx(paragraphs))
    (tmp_path / "talk.srt").write_bytes(SRT)
    translator.translate_document_from_filepath(tmp_path / "report.docx", tmp_path / "report.ko.docx",
                                                target_lang="KO")
    assert _docx_texts((tmp_path / "report.ko.docx").read_bytes()) == paragraphs
    translator.translate_document_from_filepath(tmp_path / "talk.srt", tmp_path / "talk.ko.srt", target_lang="KO")
    assert (tmp_path / "talk.ko.srt").read_bytes() == SRT  # untranslated text comes back byte for byte
    assert not list(echo_server.state.documents.folder.iterdir())  # deleted once downloaded


# --- API shapes, on a translator that marks what it translated ---------------------------------------------------

def test_translate_keeps_each_requests_sentences_in_order(serve):
    server = serve()
    r = server.post("/translate", json={"q": ["One. Two.", "<p>Three <b>four</b>.</p>"], "source": "auto",
                                        "target": "ko", "format": "html"})
    assert r.status_code == 200
    assert r.json()["translatedText"] == ["«One.» «Two.»", "<p>«Three <b>four</b>.»</p>"]
    assert [d["language"] for d in r.json()["detectedLanguage"]] == ["en", "en"]
    r = server.post("/translate", data={"q": "Hello there.", "source": "en", "target": "ko"})  # a form
    assert r.json() == {"translatedText": "«Hello there.»"}
    r = server.post("/v2/translate", data={"text": ["A.", "B."], "target_lang": "KO"},
                    headers={"Authorization": "DeepL-Auth-Key x"})
    assert [t["text"] for t in r.json()["translations"]] == ["«A.»", "«B.»"]
    r = server.post("/v2/translate", json={"text": ["<doc><t>Hello there.</t><n>Bye now.</n></doc>"],
                                           "target_lang": "KO", "tag_handling": "xml"})
    assert r.json()["translations"][0]["text"] == "<doc><t>«Hello there.»</t><n>«Bye now.»</n></doc>"


def test_libretranslate_translate_file_and_download(serve):
    server = serve()
    r = server.post("/translate_file", files={"file": ("../../notes.docx", _docx(["Hello there.", "Bye."]))},
                    data={"source": "en", "target": "ko"})
    assert r.status_code == 200
    url = r.json()["translatedFileUrl"]
    name = url.rsplit("/", 1)[1]
    assert len(name.split(".")[0]) == 32 and name.endswith(".notes.ko.docx")  # unguessable id, no path
    d = requests.get(url, timeout=10)
    assert d.status_code == 200 and 'filename="notes.ko.docx"' in d.headers["content-disposition"]
    assert _docx_texts(d.content) == ["«Hello there.»", "«Bye.»"]
    again = requests.get(url, timeout=10)
    assert again.status_code == 404 and again.json() == {"error": "Invalid filename"}  # gone after download
    for probe in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "0" * 32 + ".x.srt"):
        assert requests.get(f"{server.url}/download_file/{probe}", timeout=10).status_code == 404
    server.alive()


def test_a_document_larger_than_the_queue_goes_through_it_in_parts(serve):
    translator = MarkTranslator()
    server = serve(translator, max_queue=2)
    text = "".join(f"{i}\n00:00:0{i},000 --> 00:00:0{i},500\nLine number {i} here.\n\n" for i in range(1, 8))
    r = server.post("/translate_file", files={"file": ("a.srt", text.encode())}, data={"source": "en", "target": "ko"})
    out = requests.get(r.json()["translatedFileUrl"], timeout=10).content.decode()
    assert [l for l in out.splitlines() if "Line" in l] == [f"«Line number {i} here.»" for i in range(1, 8)]
    assert max(len(texts) for texts, _, _ in translator.calls) <= 2


def test_documents_expire(serve):
    server = serve(document_ttl=1.0)
    r = server.post("/v2/document", files={"file": ("a.srt", SRT)}, data={"target_lang": "KO"})
    handle = r.json()
    store = server.state.documents
    store.get(handle["document_id"]).finished.wait(10)
    assert list(store.folder.iterdir())
    time.sleep(1.2)
    status = server.post(f"/v2/document/{handle['document_id']}", json={"document_key": handle["document_key"]})
    assert status.status_code == 404 and status.json() == {"message": "Document not found."}
    store.sweep()
    assert not list(store.folder.iterdir())


# --- one engine for all clients --------------------------------------------------------------------------------

class SlowTranslator(MarkTranslator):
    """Costs the same per call whatever the batch, as a GPU batch does: sharing batches is what makes it fast."""

    def translate_batch(self, texts, src, tgt):
        time.sleep(0.05)
        return super().translate_batch(texts, src, tgt)


def test_64_concurrent_clients_share_batches(serve):
    translator = SlowTranslator()
    server = serve(translator)
    lt = libretranslatepy.LibreTranslateAPI(server.url)
    sentences = [f"Sentence number {i} is here." for i in range(64)]

    started = time.perf_counter()
    one_by_one = [lt.translate(s, "en", "ko") for s in sentences]
    sequential = time.perf_counter() - started
    calls_before = len(translator.calls)

    barrier = threading.Barrier(64)

    def client(s):
        barrier.wait()
        return lt.translate(s, "en", "ko")

    with ThreadPoolExecutor(64) as pool:
        started = time.perf_counter()
        together = list(pool.map(client, sentences))
        concurrent = time.perf_counter() - started
    assert one_by_one == together == [f"«{s}»" for s in sentences]  # every client gets its own sentence
    assert len(translator.calls) - calls_before < 16  # shared batches, not one call per request
    print(f"64 requests: one after another {sequential:.2f} s, concurrently {concurrent:.2f} s "
          f"({sequential / concurrent:.1f}x)")
    assert sequential / concurrent >= 3


class BlockedTranslator(MarkTranslator):
    """Holds every call until released, so requests pile up behind the first."""

    def __init__(self):
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def translate_batch(self, texts, src, tgt):
        self.entered.set()
        self.release.wait(20)
        return super().translate_batch(texts, src, tgt)


def _wait_queued(server, n):
    deadline = time.monotonic() + 10
    while server.state.batcher.queued < n:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_full_queue_answers_503_with_retry_after_then_recovers(serve):
    translator = BlockedTranslator()
    server = serve(translator, max_queue=4, timeout=30)
    try:
        _overload(server, translator)
    finally:
        translator.release.set()
    server.alive()


def _overload(server, translator):
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(server.post, "/translate", json={"q": "First.", "source": "en", "target": "ko"})
        assert translator.entered.wait(10)  # the engine is busy with the first request
        waiting = pool.submit(server.post, "/translate",
                              json={"q": ["A b.", "C d.", "E f.", "G h."], "source": "en", "target": "ko"})
        _wait_queued(server, 4)
        full = server.post("/translate", json={"q": "One more.", "source": "en", "target": "ko"})
        assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1
        assert "queue is full" in full.json()["error"]
        full = server.post("/v2/translate", json={"text": ["One more."], "target_lang": "KO"},
                           headers={"Authorization": "DeepL-Auth-Key x"})
        assert full.status_code == 503 and "queue is full" in full.json()["message"]
        assert translator.calls == []  # refused at once, not after waiting
        too_many = server.post("/translate", json={"q": "One cat. Two dogs. Three birds. Four fish. Five cows.", "source": "en", "target": "ko"})
        assert too_many.status_code == 400 and "exceeds" in too_many.json()["error"]
        translator.release.set()
        assert first.result().json()["translatedText"] == "«First.»"
        assert waiting.result().json()["translatedText"] == ["«A b.»", "«C d.»", "«E f.»", "«G h.»"]


def test_a_slow_request_times_out_with_503(serve):
    translator = BlockedTranslator()
    server = serve(translator, timeout=1.0)
    r = server.post("/translate", json={"q": "Slow.", "source": "en", "target": "ko"})
    assert r.status_code == 503 and "Retry-After" in r.headers and "longer than 1 s" in r.json()["error"]
    translator.release.set()
    server.alive()


# --- refused: bad bodies, huge bodies, wrong keys ----------------------------------------------------------------

@pytest.mark.parametrize("path, kwargs, status, body", [
    ("/translate", {"data": b"{not json", "headers": {"content-type": "application/json"}}, 400,
     {"error": "Invalid request: malformed JSON"}),
    ("/translate", {"json": {"source": "en", "target": "ko"}}, 400, {"error": "Invalid request: missing q parameter"}),
    ("/translate", {"json": {"q": "x", "source": "en", "target": "fr"}}, 400, {"error": "fr is not supported"}),
    ("/translate", {"json": {"q": "x", "source": "en", "target": "ko", "format": "pdf"}}, 400,
     {"error": "pdf format is not supported"}),
    ("/translate", {"json": {"q": [1, 2], "source": "en", "target": "ko"}}, 400,
     {"error": "Invalid request: q must be a string or a list of strings"}),
    ("/detect", {"json": ["q"]}, 400, {"error": "Invalid request: the JSON body must be an object"}),
    ("/translate_file", {"files": {"file": ("x.exe", b"MZ")}, "data": {"source": "en", "target": "ko"}}, 400, None),
    ("/v2/translate", {"json": {"text": ["x"]}}, 400, {"message": "Parameter 'target_lang' not specified."}),
    ("/v2/translate", {"json": {"text": ["x"], "target_lang": "DE"}}, 400,
     {"message": "Value for 'target_lang' not supported."}),
    ("/v2/translate", {"json": {"text": ["x"], "target_lang": "KO", "tag_handling": "pdf"}}, 400,
     {"message": "Value for 'tag_handling' not supported."}),
    ("/v2/translate", {"json": {"target_lang": "KO"}}, 400, {"message": "Parameter 'text' not specified."}),
    ("/v2/document/" + "0" * 32, {"json": {"document_key": "k"}}, 404, {"message": "Document not found."}),
])
def test_bad_bodies_are_refused_in_the_apis_shape(serve, path, kwargs, status, body):
    server = serve()
    r = server.post(path, **kwargs)
    assert r.status_code == status
    if body is not None:
        assert r.json() == body
    else:
        assert set(r.json()) == {"error"}
    server.alive()


def test_huge_bodies_and_uploads_are_refused(serve):
    server = serve(max_body=64 * 1024, limits=Limits(max_input=256 * 1024))
    big = "Hello world. " * 10_000  # 130 KB
    r = server.post("/translate", json={"q": big, "source": "en", "target": "ko"})
    assert r.status_code == 413 and "Too Large" in r.json()["error"]
    r = server.post("/v2/translate", json={"text": [big], "target_lang": "KO"})
    assert r.status_code == 413 and "Too Large" in r.json()["message"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 8192

    r = server.post("/translate", data=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and set(r.json()) == {"error"}
    r = server.post("/v2/document", files={"file": ("big.srt", b"x" * (2 << 20))}, data={"target_lang": "KO"})
    assert r.status_code == 413 and set(r.json()) == {"message"}
    r = server.post("/v2/document", files={"file": ("big.srt", b"x" * (300 * 1024))}, data={"target_lang": "KO"})
    assert r.status_code == 413 and "larger than 256 KiB" in r.json()["message"]
    server.alive()


def _refusal_of(messages):
    """Runs BodyLimit over a body given as ASGI messages (the last receive blocks, as a server's does once the
    body has ended); returns the status it sent and how many messages it read."""
    import asyncio

    from gugugo_cli.serve.app import BodyLimit

    async def app(scope, receive, send):  # reads the whole body, as a route does
        while (await receive()).get("more_body"):
            pass

    async def run():
        pending, sent = list(messages), []

        async def receive():
            if not pending:
                await asyncio.sleep(3600)
            return pending.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": "/translate", "headers": [], "method": "POST"}
        await asyncio.wait_for(BodyLimit(app, Settings(max_body=1000))(scope, receive, send), 5)
        return sent[0]["status"], len(messages) - len(pending)

    return asyncio.run(run())


def test_a_refused_body_is_read_before_the_answer_and_an_ended_one_is_not_waited_for():
    chunk = {"type": "http.request", "body": b"x" * 600, "more_body": True}
    last = {"type": "http.request", "body": b"x" * 600, "more_body": False}
    # over the limit at the 2nd of 5 messages: the other 3 are read (dropped), so the client is not reset
    assert _refusal_of([chunk] * 4 + [last]) == (413, 5)
    # over the limit with the body's last message: answered at once
    assert _refusal_of([chunk, last]) == (413, 2)


def test_a_zip_bomb_document_fails_alone(serve, tmp_path):
    import zipfile

    server = serve(limits=Limits(max_input=1 << 20))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<" + b"a" * (4 << 20) + b">")
    translator = deepl.Translator("k", server_url=server.url)
    with pytest.raises(deepl.DocumentTranslationException, match="unpacks to"):
        translator.translate_document(bomb.getvalue(), io.BytesIO(), target_lang="KO", filename="bomb.docx")
    server.alive()


def test_wrong_keys_are_refused(serve):
    server = serve(api_key="s3cret")
    r = server.post("/translate", json={"q": "Hi.", "source": "en", "target": "ko", "api_key": "wrong"})
    assert r.status_code == 403 and r.json() == {"error": "Invalid API key"}
    r = server.post("/translate", json={"q": "Hi.", "source": "en", "target": "ko"})
    assert r.status_code == 400 and "API key" in r.json()["error"]
    r = server.post("/translate_file", files={"file": ("a.srt", SRT)}, data={"source": "en", "target": "ko"})
    assert r.status_code == 400
    assert libretranslatepy.LibreTranslateAPI(server.url, api_key="s3cret").translate("Hi.", "en", "ko") == "«Hi.»"
    with pytest.raises(deepl.AuthorizationException):
        deepl.Translator("wrong", server_url=server.url).translate_text("Hi.", target_lang="KO")
    with pytest.raises(deepl.AuthorizationException):
        deepl.Translator("wrong", server_url=server.url).get_usage()
    assert deepl.Translator("s3cret", server_url=server.url).translate_text("Hi.", target_lang="KO").text == "«Hi.»"
    assert requests.get(server.url + "/health", timeout=10).status_code == 200


class FailingTranslator(MarkTranslator):
    def translate_batch(self, texts, src, tgt):
        if any("explode" in t for t in texts):
            raise RuntimeError("the engine broke")
        return super().translate_batch(texts, src, tgt)


def test_an_engine_failure_fails_its_request_alone(serve):
    server = serve(FailingTranslator())
    r = server.post("/translate", json={"q": "Please explode now.", "source": "en", "target": "ko"})
    assert r.status_code == 500 and r.json() == {"error": "Cannot translate text: the engine broke"}
    r = server.post("/v2/translate", json={"text": ["Please explode now."], "target_lang": "KO"})
    assert r.status_code == 500 and r.json() == {"message": "Cannot translate text: the engine broke"}
    server.alive()


def test_the_segment_cache_is_shared_by_all_requests(serve, tmp_path):
    translator = MarkTranslator()
    server = serve(translator, cache_path=tmp_path / "cache.sqlite3", cache_key="mark")
    for _ in range(2):
        r = server.post("/translate", json={"q": "Cached once.", "source": "en", "target": "ko"})
        assert r.json()["translatedText"] == "«Cached once.»"
    r = server.post("/v2/translate", json={"text": ["Cached once."], "target_lang": "KO"})
    assert r.json()["translations"][0]["text"] == "«Cached once.»"
    assert translator.segments == ["Cached once."]


# --- the command --------------------------------------------------------------------------------------------------

def test_binding_beyond_loopback_needs_an_api_key():
    from click.testing import CliRunner

    from gugugo_cli.serve.main import cli, is_loopback

    result = CliRunner().invoke(cli, ["--host", "0.0.0.0", "--model", "/nonexistent"], env={"GUGUGO_API_KEY": None})
    assert result.exit_code == 2 and "--api-key" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_the_command_loads_the_model_once_and_reports_it(tmp_path):
    from conftest import ECHO_MODEL
    from starlette.testclient import TestClient

    from gugugo_cli.serve.main import build, host_settings

    settings = host_settings(None, 60.0, 64, 1 << 20, Limits(), 60.0, tmp_path / "c.sqlite3", False)
    app = build({"model": str(ECHO_MODEL), "device": "cpu", "dtype": "float32"}, settings)
    with TestClient(app) as client:
        health = client.get("/health").json()
        assert health["status"] == "ok" and health["model"] == str(ECHO_MODEL) and health["device"] == "cpu"
        r = client.post("/translate", json={"q": "Good night.", "source": "en", "target": "ko"})
        assert r.json() == {"translatedText": "Good night."}


def test_importing_the_library_does_not_import_the_server_stack():
    code = ("import sys, gugugo_cli, gugugo_cli.api, gugugo_cli.cli, gugugo_cli.serve.main; "
            "assert not [m for m in ('starlette', 'uvicorn', 'multipart', 'torch') if m in sys.modules], "
            "sorted(m for m in ('starlette', 'uvicorn', 'multipart', 'torch') if m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
