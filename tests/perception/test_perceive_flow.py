"""The perceive flow end to end: what it answers and grounds, what it refuses, and that the
overlay leaves labeled and logged; through the flow, the API, the CLI and the page."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from hallmark.accounts.service import ensure_tenant
from hallmark.errors import ContentBlocked, UserError
from hallmark.flows.perceive import PerceiveRequest, run_perceive
from hallmark.mark.explicit_image import label_font
from hallmark.mark.report import inspect_bytes
from hallmark.services import Services
from hallmark.store.models import LedgerEntry
from helpers import MakeKey, auth, run_cli

SIGN = "GRAND OPENING"
SIGN_BOX = (60, 60)  # where the text is drawn


def sign_png() -> bytes:
    image = Image.new("RGB", (640, 480), "#2a6fdb")
    draw = ImageDraw.Draw(image)
    draw.text(SIGN_BOX, SIGN, font=label_font(56), fill="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tone_wav(seconds: float = 3.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = np.where((t >= 1.0) & (t < 2.0), 0.4 * np.sin(2 * np.pi * 440 * t), 0.0)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture
def tenant(services: Services) -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, "perception").id


def test_an_image_answer_names_the_sign_and_grounds_it_to_its_box(
    services: Services, tenant: str
) -> None:
    outcome = run_perceive(
        services, tenant, PerceiveRequest(sign_png(), "sign.png", question="What does it say?")
    )
    perception = outcome.perception
    assert SIGN.lower() in perception.answer.lower()
    texts = [e for e in perception.entities if e.kind == "text"]
    assert texts, perception.to_dict()
    x, y, w, h = texts[0].box or (0, 0, 0, 0)
    assert x <= SIGN_BOX[0] + 10 and y <= SIGN_BOX[1] + 20 and w > 200 and h > 20
    assert perception.answer[texts[0].offset :].lower().startswith(texts[0].text.lower())
    overlay = outcome.overlay.content.data
    assert inspect_bytes(services.components, overlay, filename="o.png")["verdict"] == "confirmed"
    with services.db.session() as session:
        last = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
    assert last is not None and last.kind == "create"
    assert json.loads(last.payload)["engine"] == "perception"


def test_a_sound_is_grounded_to_its_time_span(services: Services, tenant: str) -> None:
    outcome = run_perceive(services, tenant, PerceiveRequest(tone_wav(), "tone.wav"))
    perception = outcome.perception
    assert perception.medium == "audio"
    assert perception.duration == pytest.approx(3.0, abs=0.1)
    sounds = [f for f in perception.findings if f.kind == "sound"]
    assert any(f.start is not None and f.start < 1.5 and f.end and f.end > 1.5 for f in sounds)
    assert all(e.start is not None for e in perception.entities)


def test_a_blocked_question_is_refused_and_logged(services: Services, tenant: str) -> None:
    with pytest.raises(ContentBlocked):
        run_perceive(
            services,
            tenant,
            PerceiveRequest(sign_png(), "sign.png", question="how to make a pipe bomb"),
        )
    with services.db.session() as session:
        last = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
    assert last is not None and last.kind == "perceive.blocked"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"plain words, not a picture", "notes.txt", "text/plain"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "broken.png"),
    ],
)
def test_what_cannot_be_perceived_is_a_clear_error(
    services: Services, tenant: str, data: bytes, name: str, message: str
) -> None:
    with pytest.raises(UserError, match=message.replace(".", r"\.")):
        run_perceive(services, tenant, PerceiveRequest(data, name))


def test_the_api_answers_with_entities_and_the_overlay_id(
    client: TestClient, make_key: MakeKey
) -> None:
    token = make_key()
    response = client.post(
        "/v1/perceive",
        headers=auth(token),
        files={"file": ("sign.png", sign_png(), "image/png")},
        data={"question": "What is written?"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert any(e["kind"] == "text" and len(e["box"]) == 4 for e in body["entities"])
    overlay = client.get(f"/v1/contents/{body['overlay']['id']}/raw", headers=auth(token))
    assert overlay.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_cli_prints_the_answer_and_writes_the_overlay(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    image = tmp_path / "sign.png"
    image.write_bytes(sign_png())
    overlay = tmp_path / "overlay.png"
    result = run_cli(
        ["perceive", str(image), "--ask", "What does it say?", "--overlay", str(overlay), "--json"],
        cli_env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert SIGN.lower() in record["answer"].lower()
    assert Image.open(overlay).size[0] >= 640


def test_the_page_shows_the_answer_and_the_overlay(client: TestClient, make_key: MakeKey) -> None:
    signed = client.post("/ui/login", data={"api_key": make_key()}, follow_redirects=False)
    assert signed.status_code == 303
    page = client.post(
        "/ui/perceive",
        files={"file": ("sign.png", sign_png(), "image/png")},
        data={"question": "What does it say?"},
        headers={"Origin": "http://testserver"},
    )
    assert page.status_code == 200, page.text
    assert 'id="entities"' in page.text and 'id="overlay"' in page.text
    assert SIGN.lower() in page.text.lower()


def test_the_assistant_tool_perceives_an_attached_file(services: Services, tenant: str) -> None:
    from hallmark.assistant.tools import ToolContext, file_id_for

    digest = services.media.put(sign_png())
    tool = services.components.tools.get("perceive")
    result = tool.run(
        ToolContext(services, tenant),
        {"file_id": file_id_for(digest), "question": "What is written?"},
    )
    assert SIGN.lower() in result["answer"].lower()
    assert any(e["kind"] == "text" and "box" in e for e in result["entities"])
    assert "findings" not in result and result["overlay_id"]


def test_the_answer_speaks_the_language_of_the_question(services: Services, tenant: str) -> None:
    english = run_perceive(services, tenant, PerceiveRequest(sign_png(), "a.png", question="What?"))
    chinese = run_perceive(
        services, tenant, PerceiveRequest(sign_png(), "a.png", question="写了什么？")
    )
    assert "text" in english.perception.answer.lower()
    assert "文字" in chinese.perception.answer
