"""The invisible image watermark: a keyed, tiled pattern in the luminance that carries a
64-bit payload identifying the content (its watermark id, a keyed hash of the content id, and
a CRC), and survives JPEG, resizing, cropping, brightness changes and blur.

``payload`` is what is carried and its error-correcting code, ``image`` the signal processing
on arrays, ``raster`` the file formats (Pillow), ``marker`` and ``inspector`` the two sides,
``audio`` and ``audio_marker`` the audio watermark (spread spectrum, same payload and key),
``video`` the image watermark in every frame of MP4/MOV and the audio watermark in its first
audio stream,
``attacks`` the edits it is specified to survive (shared by the tests and the benchmark).

The key lives in ``HALLMARK_HOME/keys`` (``KeyStore(settings.keys_dir)``).
"""

from __future__ import annotations

from hallmark.mark.watermark.audio_marker import (
    AudioWatermarkInspector,
    AudioWatermarkMarker,
    detect_audio,
    embed_audio,
)
from hallmark.mark.watermark.inspector import Detection, WatermarkInspector, detect
from hallmark.mark.watermark.marker import Marked, WatermarkMarker, embed
from hallmark.mark.watermark.payload import KeyStore, Payload, WatermarkKey, watermark_id
from hallmark.mark.watermark.video import (
    VideoAudioWatermarkInspector,
    VideoWatermarkInspector,
    VideoWatermarkMarker,
    detect_video,
    detect_video_audio,
    embed_video,
)
from hallmark.registry import Components

__all__ = [
    "AudioWatermarkInspector",
    "AudioWatermarkMarker",
    "Detection",
    "KeyStore",
    "Marked",
    "Payload",
    "VideoAudioWatermarkInspector",
    "VideoWatermarkInspector",
    "VideoWatermarkMarker",
    "WatermarkInspector",
    "WatermarkKey",
    "WatermarkMarker",
    "detect",
    "detect_audio",
    "detect_video",
    "detect_video_audio",
    "embed",
    "embed_audio",
    "embed_video",
    "register",
    "watermark_id",
]


def register(components: Components) -> None:
    keys = KeyStore(components.settings.keys_dir)
    components.markers.register("watermark", WatermarkMarker(keys))
    components.inspectors.register("watermark", WatermarkInspector(keys))
    components.markers.register("watermark.audio", AudioWatermarkMarker(keys))
    components.inspectors.register("watermark.audio", AudioWatermarkInspector(keys))
    components.markers.register("watermark.video", VideoWatermarkMarker(keys))
    components.inspectors.register("watermark.video", VideoWatermarkInspector(keys))
    components.inspectors.register("watermark.video-audio", VideoAudioWatermarkInspector(keys))
