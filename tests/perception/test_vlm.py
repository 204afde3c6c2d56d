"""The openai-vision perceiver against a loopback server of our own that plays a Qwen2.5-VL
behind an OpenAI-compatible API: it decodes the image it is sent and answers with boxes in
each of Qwen's formats, or fails on purpose."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hallmark.errors import UpstreamError, UpstreamTimeout, UserError
from hallmark.perception.base import PerceptionInput
from hallmark.perception.vlm import (
    OpenAIVisionPerceiver,
    VisionReplyUnreadable,
    parse_grounding,
    register,
    smart_resize,
)
from hallmark.registry import Components
from hallmark.settings import Settings

DOG = (100, 120, 200, 150)  # x, y, w, h in the original 640x480 image
SIGN = (380, 30, 220, 60)


@dataclass
class Seen:
    """What the server was sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


Answer = Callable[[BaseHTTPRequestHandler, Seen], None]
Serve = Callable[[Answer], "FakeServer"]


@dataclass
class FakeServer:
    url: str
    seen: list[Seen] = field(default_factory=list)


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], FakeServer]]:
    """serve(answer) -> a loopback server that records each request and answers it."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> FakeServer:
        record = FakeServer("")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self._answer(json.loads(self.rfile.read(length) or b"null"))

            def _answer(self, body: dict[str, Any] | None) -> None:
                seen = Seen(self.command, self.path, dict(self.headers), body)
                record.seen.append(seen)
                answer(self, seen)

            def log_message(self, format: str, *args: object) -> None:
                pass

        http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        http.daemon_threads = True
        threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(http)
        record.url = f"http://127.0.0.1:{http.server_address[1]}/v1"
        return record

    yield start
    for http in servers:
        http.shutdown()
        http.server_close()


def send_json(handler: BaseHTTPRequestHandler, status: int, value: object) -> None:
    body = json.dumps(value).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def completion(content: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


def sent_image(seen: Seen) -> Image.Image:
    """The image in the request's data URL; fails the test where there is none."""
    assert seen.body is not None
    parts = seen.body["messages"][0]["content"]
    urls = [part["image_url"]["url"] for part in parts if part["type"] == "image_url"]
    assert len(urls) == 1 and urls[0].startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(urls[0].split(",", 1)[1])))


def qwen25(seen: Seen, original: tuple[int, int], boxes: list[tuple[str, tuple[int, ...]]]) -> str:
    """Qwen2.5-VL's answer: the boxes in absolute pixels of the image it was sent."""
    image = sent_image(seen)
    sx, sy = image.width / original[0], image.height / original[1]
    items = []
    for label, (x, y, w, h) in boxes:
        item: dict[str, Any] = {
            "bbox_2d": [round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)],
            "label": label,
        }
        if label == "text":
            item["text_content"] = "OPEN DAILY"
        items.append(item)
    return "```json\n" + json.dumps(items, indent=2) + "\n```"


def picture(tmp_path: Path, size: tuple[int, int] = (640, 480), name: str = "p.png") -> Path:
    path = tmp_path / name
    Image.new("RGB", size, (200, 220, 240)).save(path)
    return path


def close_to(box: tuple[int, int, int, int], truth: tuple[int, int, int, int], px: int) -> bool:
    return all(abs(a - b) <= px for a, b in zip(box, truth, strict=True))


def test_qwen25_json_boxes_come_back_in_the_images_pixels(tmp_path: Path, serve: Serve) -> None:
    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        send_json(
            handler, 200, completion(qwen25(seen, (640, 480), [("dog", DOG), ("text", SIGN)]))
        )

    server = serve(answer)
    perceiver = OpenAIVisionPerceiver(server.url, model="qwen2.5-vl-7b", api_key="sk-test")
    findings = perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"), "Any pets?")
    assert [(f.kind, f.label) for f in findings] == [("object", "dog"), ("text", "OPEN DAILY")]
    assert findings[0].box is not None and close_to(findings[0].box, DOG, 1)
    assert findings[1].box is not None and close_to(findings[1].box, SIGN, 1)
    request = server.seen[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.body is not None and request.body["model"] == "qwen2.5-vl-7b"
    assert sent_image(request).size == smart_resize(640, 480) == (644, 476)
    prompt = request.body["messages"][0]["content"][1]["text"]
    assert "bbox_2d" in prompt and "Any pets?" in prompt


def test_a_big_image_is_sent_smaller_and_its_boxes_scaled_back(
    tmp_path: Path, serve: Serve
) -> None:
    dog = (500, 600, 700, 400)

    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        send_json(handler, 200, completion(qwen25(seen, (2400, 1800), [("dog", dog)])))

    server = serve(answer)
    path = picture(tmp_path, (2400, 1800))
    (finding,) = OpenAIVisionPerceiver(server.url, model="m").perceive(
        PerceptionInput(path, "image/png")
    )
    width, height = sent_image(server.seen[0]).size
    assert width % 28 == 0 and height % 28 == 0 and width * height <= 1280 * 28 * 28
    assert finding.box is not None and close_to(finding.box, dog, 4)


def test_the_older_tagged_format_on_a_1000_grid(tmp_path: Path, serve: Serve) -> None:
    reply = (
        "<|object_ref_start|>the dog<|object_ref_end|>"
        "<|box_start|>(156,250),(468,562)<|box_end|> and "
        "<|object_ref_start|>cups<|object_ref_end|><|box_start|>(0,0),(100,100)<|box_end|>"
        "<|box_start|>(900,900),(1100,1000)<|box_end|>"
    )
    server = serve(lambda handler, seen: send_json(handler, 200, completion(reply)))
    findings = OpenAIVisionPerceiver(server.url, model="m").perceive(
        PerceptionInput(picture(tmp_path), "image/png")
    )
    assert [(f.label, f.box) for f in findings] == [
        ("the dog", DOG),
        ("cups", (0, 0, 64, 48)),
        ("cups", (576, 432, 64, 48)),  # clamped to the image
    ]


def test_tags_with_their_special_tokens_stripped_are_read_too() -> None:
    findings = parse_grounding("the dog(156,250),(468,562)", (640, 480))
    assert findings is not None and [(f.label, f.box) for f in findings] == [("the dog", DOG)]


def test_a_box_outside_the_image_is_dropped_and_corners_are_ordered() -> None:
    reply = json.dumps(
        [
            {"bbox_2d": [700, 500, 900, 600], "label": "ghost"},
            {"bbox_2d": [300, 270, 100, 120], "label": "dog"},
        ]
    )
    findings = parse_grounding(reply, (640, 480))
    assert findings is not None and [(f.label, f.box) for f in findings] == [("dog", DOG)]


def test_an_empty_list_is_an_honest_nothing(tmp_path: Path, serve: Serve) -> None:
    server = serve(lambda handler, seen: send_json(handler, 200, completion("```json\n[]\n```")))
    perceiver = OpenAIVisionPerceiver(server.url, model="m")
    assert perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png")) == []


def test_prose_without_boxes_is_an_unreadable_reply(tmp_path: Path, serve: Serve) -> None:
    prose = "I see a cheerful light-blue picture, but I cannot give coordinates."
    server = serve(lambda handler, seen: send_json(handler, 200, completion(prose)))
    perceiver = OpenAIVisionPerceiver(server.url, model="m")
    with pytest.raises(VisionReplyUnreadable, match="no boxes") as caught:
        perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"))
    assert isinstance(caught.value, UpstreamError)
    assert caught.value.details["reply"] == prose


def test_the_model_is_asked_of_the_server_when_not_configured(tmp_path: Path, serve: Serve) -> None:
    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        if seen.method == "GET":
            send_json(handler, 200, {"data": [{"id": "Qwen/Qwen2.5-VL-3B-Instruct"}]})
        else:
            send_json(handler, 200, completion("[]"))

    server = serve(answer)
    OpenAIVisionPerceiver(server.url).perceive(PerceptionInput(picture(tmp_path), "image/png"))
    assert [s.path for s in server.seen] == ["/v1/models", "/v1/chat/completions"]
    assert server.seen[1].body is not None
    assert server.seen[1].body["model"] == "Qwen/Qwen2.5-VL-3B-Instruct"


def test_an_exif_rotated_photo_is_sent_as_shown(tmp_path: Path, serve: Serve) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated a quarter turn: portrait
    Image.new("RGB", (400, 300), "white").save(path, exif=exif.tobytes())
    server = serve(lambda handler, seen: send_json(handler, 200, completion("[]")))
    OpenAIVisionPerceiver(server.url, model="m").perceive(PerceptionInput(path, "image/jpeg"))
    width, height = sent_image(server.seen[0]).size
    assert height > width


def test_server_errors_are_retried_then_an_upstream_error(tmp_path: Path, serve: Serve) -> None:
    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        send_json(handler, 500, {"error": {"message": "CUDA out of memory"}})

    server = serve(answer)
    perceiver = OpenAIVisionPerceiver(server.url, model="m", retries=2, backoff=0.01)
    with pytest.raises(UpstreamError, match="answered 500: CUDA out of memory") as caught:
        perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"))
    assert not isinstance(caught.value, UpstreamTimeout)
    assert len(server.seen) == 3


def test_a_client_error_is_not_retried(tmp_path: Path, serve: Serve) -> None:
    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        send_json(handler, 400, {"error": {"message": "image too large"}})

    server = serve(answer)
    perceiver = OpenAIVisionPerceiver(server.url, model="m", retries=2, backoff=0.01)
    with pytest.raises(UpstreamError, match="answered 400: image too large"):
        perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"))
    assert len(server.seen) == 1


def test_a_silent_server_is_an_upstream_timeout(tmp_path: Path, serve: Serve) -> None:
    release = threading.Event()

    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        release.wait(10)

    server = serve(answer)
    perceiver = OpenAIVisionPerceiver(server.url, model="m", timeout=0.3)
    try:
        with pytest.raises(UpstreamTimeout, match=r"did not answer within 0\.3 s"):
            perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"))
    finally:
        release.set()


def test_a_server_that_is_down_is_an_upstream_error(tmp_path: Path) -> None:
    perceiver = OpenAIVisionPerceiver("http://127.0.0.1:9/v1", model="m", retries=1, backoff=0.01)
    with pytest.raises(UpstreamError, match="unreachable"):
        perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"))


def test_bad_images_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    perceiver = OpenAIVisionPerceiver("http://127.0.0.1:9/v1", model="m", retries=0)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match=r"corrupt\.png: corrupt or unsupported image"):
        perceiver.perceive(PerceptionInput(corrupt, "image/png"))
    with pytest.raises(UserError, match=r"notes\.txt: cannot look at text/plain"):
        perceiver.perceive(PerceptionInput(notes, "text/plain"))
    with pytest.raises(UserError, match=r"empty\.png: corrupt or unsupported image"):
        perceiver.perceive(PerceptionInput(empty, "image/png"))
    with pytest.raises(UserError, match=r"cannot read gone\.png"):
        perceiver.perceive(PerceptionInput(tmp_path / "gone.png", "image/png"))


def test_registered_only_when_a_vision_url_is_configured(tmp_path: Path) -> None:
    bare = Components(Settings(home=tmp_path))
    register(bare)
    assert "openai-vision" not in bare.perceivers
    settings = Settings(
        home=tmp_path, vision_base_url="http://127.0.0.1:9/v1", vision_api_key="sk-x"
    )
    components = Components(settings)
    register(components)
    perceiver = components.perceivers.get("openai-vision")
    assert isinstance(perceiver, OpenAIVisionPerceiver)
    assert "sk-x" not in repr(perceiver)


def test_smart_resize_matches_qwens_processor() -> None:
    assert smart_resize(640, 480) == (644, 476)
    assert smart_resize(28, 28) == (56, 56)  # under min_pixels: scaled up
    width, height = smart_resize(4000, 3000)
    assert width * height <= 1280 * 28 * 28 and width % 28 == height % 28 == 0
    assert abs(width / height - 4 / 3) < 0.05


def test_a_server_that_recovers_after_a_503_is_answered(tmp_path: Path, serve: Serve) -> None:
    def answer(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        if len(server.seen) == 1:
            send_json(handler, 503, {"error": {"message": "loading"}})
        else:
            send_json(handler, 200, completion('[{"bbox_2d": [0, 0, 10, 10], "label": "cup"}]'))

    server = serve(answer)
    perceiver = OpenAIVisionPerceiver(server.url, model="m", retries=1, backoff=0.01)
    findings = perceiver.perceive(PerceptionInput(picture(tmp_path), "image/png"))
    assert [f.label for f in findings] == ["cup"] and len(server.seen) == 2
