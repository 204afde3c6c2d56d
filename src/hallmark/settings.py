"""The one typed settings object, read from the environment (prefix ``HALLMARK_``).

Every field is documented in docs/settings.md; a test fails when one is not.
Settings are passed explicitly to what needs them: there is no global instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AudioNotice = Literal["auto", "cue", "spoken"]
ClassifierMode = Literal["off", "flag", "block"]


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "hallmark"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HALLMARK_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Data directory: the SQLite database, media files and signing keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; unset means SQLite at HOME/hallmark.db.",
    )
    host: str = Field(default="127.0.0.1", description="Address `hallmark serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `hallmark serve` binds to.")
    jurisdictions: str = Field(
        default="cn,eu,us-ca",
        description="Deployment default jurisdictions (comma-separated); tenants may override.",
    )
    policy_dir: Path | None = Field(
        default=None,
        description="Extra folder of jurisdiction TOML files, read beside the built-in ones.",
    )
    lexicon_files: str = Field(
        default="",
        description="Comma-separated lexicon files (term<TAB>category<TAB>severity, or "
        "phrase<TAB>allow) screened beside the built-in lexicon.",
    )
    screen_classifier: ClassifierMode = Field(
        default="flag",
        description="The classifier screen (small models shipped with hallmark) beside the "
        "lexicon: `flag` records its hits for review but never blocks on them alone, `block` "
        "lets a confident hit block, `off` turns it off.",
    )
    classifier_thresholds: str = Field(
        default="",
        description="Comma-separated model=score pairs that override the score (0 to 1) at "
        "which a classifier model's hit counts as likely harmful, e.g. `en_harmful=0.8`; unset "
        "keeps the thresholds chosen on validation data.",
    )
    screen_judge: str | None = Field(
        default=None,
        description="Name of a registered chat engine (e.g. `llama.cpp`, `openai-compatible`) "
        "that judges each text Llama Guard style, as one more screen beside the others; unset "
        "turns the judge off. A failure of the judge is logged and never blocks.",
    )
    stream_holdback: int | None = Field(
        default=None,
        ge=0,
        description="Characters of a streamed chat reply held back until the screens have read "
        "past them; unset means enough that no part of a blocked lexicon term is ever shown.",
    )
    studio_scene_engine: str = Field(
        default="auto",
        min_length=1,
        description="Chat engine that splits a script into scenes for script-to-video: a chat "
        "engine's name, `rules` for the sentence and paragraph rules, or `auto`: the "
        "`openai-compatible` engine when one is configured, else the rules.",
    )
    perception_chat_engine: str = Field(
        default="auto",
        min_length=1,
        description="Chat engine that words perception's answers from the findings: a chat "
        "engine's name, `rules` for the built-in wording, or `auto`: the `openai-compatible` "
        "engine when one is configured, else the built-in wording.",
    )
    vision_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible vision-language model (e.g. Qwen2.5-VL "
        "served by vLLM); set, it registers the `openai-vision` perceiver beside the bundled "
        "ones.",
    )
    vision_api_key: str | None = Field(
        default=None,
        repr=False,
        description="Bearer token sent to HALLMARK_VISION_BASE_URL, if it needs one.",
    )
    vision_model: str | None = Field(
        default=None,
        description="Model id asked of HALLMARK_VISION_BASE_URL; unset means the first model "
        "its GET /models lists.",
    )
    vision_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Seconds to wait for the vision model's answer.",
    )
    vision_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Retries of a failed vision request before any reply arrived.",
    )
    vision_max_pixels: int = Field(
        default=1003520,
        ge=3136,
        description="Most pixels of the image sent to the vision model; keep it at or below "
        "the server's own max_pixels, or the boxes it returns do not map back.",
    )
    ledger_retention_days: int = Field(
        default=400,
        ge=1,
        description="Age after which `hallmark ledger prune` removes entries; "
        "never below the policy's minimum retention.",
    )
    producer_code: str = Field(
        default="001" + "1" + "0" * 18 + "00000",
        description="GB 45438 ContentProducer code of this service: 001 + 1 + "
        "18-character Unified Social Credit Code + 5-digit product number.",
    )
    service_name: str = Field(
        default="hallmark", description="Service name written into labels and provenance."
    )
    worker_threads: int = Field(
        default=1, ge=0, le=16, description="In-process job worker threads (0 disables the worker)."
    )
    job_poll_seconds: float = Field(
        default=0.5, gt=0, description="How often an idle job worker looks for queued jobs."
    )
    max_upload_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="Largest upload the API accepts, in bytes."
    )
    upload_chunk_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1,
        description="Largest chunk one PUT /v1/uploads/{id} may carry, in bytes; `hallmark "
        "upload` sends chunks of this size, and POST /v1/uploads/file takes files up to it.",
    )
    upload_expiry_hours: float = Field(
        default=24.0,
        gt=0,
        description="Hours a resumable upload may take from its creation to its completion; "
        "then it expires and its staged bytes are deleted (the server checks at startup and "
        "daily).",
    )
    max_screen_chars: int = Field(
        default=1_000_000,
        ge=1,
        description="Longest text `hallmark screen` and POST /v1/screen screen at once, in "
        "characters: an inline text, a text file's text or one line of a batch.",
    )
    inspect_rate_per_minute: int = Field(
        default=30,
        ge=0,
        description="Requests a minute one client address may make to the public "
        "POST /v1/inspect (0: no limit).",
    )
    plugins: str = Field(
        default="",
        description="Comma-separated Python modules whose register(components) adds engines, "
        "screens, markers, inspectors, job kinds or voices.",
    )
    c2pa_cert_chain: Path | None = Field(
        default=None,
        description="PEM certificate chain (signer first) for C2PA Content Credentials; unset "
        "means hallmark's own CA and signer, created in HOME/keys/c2pa. "
        "Set together with HALLMARK_C2PA_PRIVATE_KEY.",
    )
    c2pa_private_key: Path | None = Field(
        default=None,
        description="PEM private key of the C2PA signing certificate in HALLMARK_C2PA_CERT_CHAIN "
        "(EC P-256/P-384/P-521, Ed25519 or RSA).",
    )
    whisper_model: Path | None = Field(
        default=None,
        description="Folder of a faster-whisper (CTranslate2) model that transcribes speech for "
        "the audio and video screens; unset means the multilingual base model shipped with "
        "hallmark, assembled once in HOME/models/whisper-base.",
    )
    chat_model: Path | None = Field(
        default=None,
        description="GGUF model file the `llama.cpp` chat engine runs; unset means the Gemma 3 "
        "270M base model shipped with hallmark, assembled once in HOME/models.",
    )
    chat_context: int = Field(
        default=4096,
        ge=256,
        description="Context window of the `llama.cpp` chat engine in tokens, prompt and reply "
        "together.",
    )
    chat_threads: int = Field(
        default=2, ge=1, le=64, description="CPU threads the `llama.cpp` chat engine uses."
    )
    openai_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible chat API, e.g. `http://127.0.0.1:8080/v1`; "
        "set, it registers the `openai-compatible` chat engine.",
    )
    openai_api_key: str | None = Field(
        default=None,
        repr=False,  # never in logs or tracebacks
        description="Bearer token sent to HALLMARK_OPENAI_BASE_URL, if it needs one.",
    )
    openai_model: str | None = Field(
        default=None,
        description="Model id asked of HALLMARK_OPENAI_BASE_URL; unset means the first model "
        "its GET /models lists.",
    )
    openai_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds to wait for the OpenAI-compatible API to connect or send the next "
        "bytes of a reply.",
    )
    openai_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Retries, with exponential backoff, when the OpenAI-compatible API cannot "
        "be reached or answers 429 or 5xx before its reply begins.",
    )
    max_screen_audio_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Longest audio, or video soundtrack, the screens transcribe, in seconds; a "
        "longer file is refused.",
    )
    audio_notice: AudioNotice = Field(
        default="auto",
        description="Explicit label of audio: `spoken` says the AI notice in words, `cue` plays "
        "the GB 45438 rhythm cue, `auto` speaks when a registered voice speaks the label's "
        "language and plays the cue otherwise.",
    )
    session_secret: str | None = Field(
        default=None,
        description="Secret that signs web UI session cookies; unset means a random one kept "
        "in HOME/keys.",
    )
    conversation_retention_days: int = Field(
        default=30,
        ge=1,
        description="Assistant conversations untouched this many days are deleted, with their "
        "messages and the daily usage records of that age, by `hallmark conversations prune` "
        "and by the server at startup and daily (Interim Measures art. 11).",
    )
    tiktok_base_url: str = Field(
        default="https://open.tiktokapis.com",
        description="Base URL of TikTok's Content Posting API (`hallmark publish tiktok`).",
    )
    tiktok_access_token: str | None = Field(
        default=None,
        repr=False,  # never in logs or tracebacks
        description="TikTok user access token (OAuth, scopes video.publish and/or video.upload) "
        "that `hallmark publish tiktok` posts with; unset turns publishing off.",
    )
    tiktok_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds to wait for TikTok to connect, answer, or take the next bytes of "
        "a chunk.",
    )
    tiktok_poll_seconds: float = Field(
        default=3.0,
        gt=0,
        description="First wait between queries of a post's status while TikTok processes it; "
        "each next wait is 1.5 times longer, up to 30 s.",
    )
    tiktok_status_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How long to wait for TikTok to finish processing a post before giving up "
        "waiting (the post may still finish).",
    )

    @field_validator("classifier_thresholds", mode="after")
    @classmethod
    def _check_thresholds(cls, value: str) -> str:
        _threshold_pairs(value)
        return value

    @field_validator("home", "whisper_model", "chat_model", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'hallmark.db'}"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def jurisdiction_codes(self) -> list[str]:
        return [code.strip() for code in self.jurisdictions.split(",") if code.strip()]

    def plugin_modules(self) -> list[str]:
        return [name.strip() for name in self.plugins.split(",") if name.strip()]

    def lexicon_paths(self) -> list[Path]:
        names = [name.strip() for name in self.lexicon_files.split(",")]
        return [Path(name).expanduser() for name in names if name]

    def classifier_threshold_overrides(self) -> dict[str, float]:
        """``classifier_thresholds`` as model name -> score."""
        return _threshold_pairs(self.classifier_thresholds)


def _threshold_pairs(value: str) -> dict[str, float]:
    pairs: dict[str, float] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        name, sep, score = item.partition("=")
        try:
            number = float(score)
        except ValueError:
            number = -1.0
        if not sep or not name.strip() or not 0.0 <= number <= 1.0:
            raise ValueError(f"expected model=score with a score from 0 to 1, found {item!r}")
        pairs[name.strip()] = number
    return pairs


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a one-line error naming the variable."""
    from pydantic import ValidationError

    from hallmark.errors import ConfigurationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"HALLMARK_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid setting {problems}") from None
