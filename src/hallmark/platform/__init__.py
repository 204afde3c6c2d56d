"""The platform: content arriving from users, posted to a feed with the labels a propagation
platform owes it (Labeling Measures Art. 6).

``uploads``: resumable chunked uploads that end in the receive flow and a post; ``feed``: the
posts, their media and their inspect reports; ``staging``: the upload bytes on disk.
"""

from hallmark.platform.feed import FeedPage, Member, PostView, get_post, list_feed, post_report
from hallmark.platform.uploads import (
    ChecksumMismatch,
    Completed,
    UploadExpired,
    UploadRequest,
    UploadStatus,
    abort_upload,
    append_chunk,
    complete_upload,
    create_upload,
    find_open_upload,
    prune_uploads,
    upload_bytes,
    upload_status,
)

__all__ = [
    "ChecksumMismatch",
    "Completed",
    "FeedPage",
    "Member",
    "PostView",
    "UploadExpired",
    "UploadRequest",
    "UploadStatus",
    "abort_upload",
    "append_chunk",
    "complete_upload",
    "create_upload",
    "find_open_upload",
    "get_post",
    "list_feed",
    "post_report",
    "prune_uploads",
    "upload_bytes",
    "upload_status",
]
