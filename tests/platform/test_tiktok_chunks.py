"""chunk_plan follows the Media Transfer Guide's chunk rules at every edge, and every plan it
makes passes the fake TikTok's independent check of those rules."""

from __future__ import annotations

import random

import pytest

from fakes.tiktok_server import check_chunk_rules
from hallmark.platform.tiktok import (
    MAX_CHUNK,
    MAX_CHUNKS,
    MAX_FINAL_CHUNK,
    MB,
    MIN_CHUNK,
    ChunkPlan,
    TikTokBadRequest,
    chunk_plan,
)


def assert_valid(plan: ChunkPlan) -> None:
    check_chunk_rules(plan.video_size, plan.chunk_size, plan.total_chunk_count)
    assert len(plan.ranges) == plan.total_chunk_count
    assert plan.ranges[0][0] == 0 and plan.ranges[-1][1] == plan.video_size - 1
    for (_, last), (first, _) in zip(plan.ranges, plan.ranges[1:], strict=False):
        assert first == last + 1  # contiguous, in order
    sizes = [last - first + 1 for first, last in plan.ranges]
    assert all(size == plan.chunk_size for size in sizes[:-1])
    assert plan.chunk_size <= sizes[-1] <= MAX_FINAL_CHUNK or plan.total_chunk_count == 1


def test_one_byte_is_one_chunk_of_one_byte() -> None:
    plan = chunk_plan(1)
    assert (plan.chunk_size, plan.total_chunk_count, plan.ranges) == (1, 1, ((0, 0),))
    assert_valid(plan)


def test_just_under_5_mb_is_uploaded_whole() -> None:
    plan = chunk_plan(MIN_CHUNK - 1)
    assert plan.chunk_size == MIN_CHUNK - 1 and plan.total_chunk_count == 1
    assert plan.source_info() == {
        "source": "FILE_UPLOAD",
        "video_size": MIN_CHUNK - 1,
        "chunk_size": MIN_CHUNK - 1,
        "total_chunk_count": 1,
    }
    assert_valid(plan)


def test_exactly_5_mb_is_one_chunk_of_5_mb() -> None:
    plan = chunk_plan(MIN_CHUNK)
    assert (plan.chunk_size, plan.total_chunk_count) == (MIN_CHUNK, 1)
    assert_valid(plan)


def test_the_last_chunk_takes_the_trailing_bytes() -> None:
    plan = chunk_plan(12 * MB + 123)
    assert (plan.chunk_size, plan.total_chunk_count) == (MIN_CHUNK, 2)
    assert plan.ranges == ((0, MIN_CHUNK - 1), (MIN_CHUNK, 12 * MB + 122))
    assert_valid(plan)


def test_the_guides_own_example() -> None:
    # 50,000,123 bytes in 10,000,000-byte chunks: 5 chunks, the last 10,000,123 bytes.
    plan = chunk_plan(50_000_123, chunk_size=10_000_000)
    assert (plan.chunk_size, plan.total_chunk_count) == (10_000_000, 5)
    assert plan.ranges[-1] == (40_000_000, 50_000_122)
    assert_valid(plan)


def test_just_over_64_mb_is_in_several_chunks() -> None:
    plan = chunk_plan(MAX_CHUNK + 1)
    assert plan.total_chunk_count == (MAX_CHUNK + 1) // MIN_CHUNK == 12
    assert_valid(plan)
    # Even when asked for 64 MB chunks, a file over 64 MB never goes as one.
    big = chunk_plan(MAX_CHUNK + 1, chunk_size=MAX_CHUNK)
    assert big.total_chunk_count == 2
    assert_valid(big)


def test_asked_chunk_sizes_are_kept_within_5_to_64_mb() -> None:
    assert chunk_plan(200 * MB, chunk_size=1).chunk_size == MIN_CHUNK
    assert chunk_plan(200 * MB, chunk_size=500 * MB).chunk_size == MAX_CHUNK


def test_more_than_1000_chunks_at_5_mb_takes_bigger_chunks() -> None:
    size = MAX_CHUNKS * MIN_CHUNK + MIN_CHUNK  # 1001 chunks at the minimum size
    plan = chunk_plan(size)
    assert plan.chunk_size > MIN_CHUNK and plan.total_chunk_count <= MAX_CHUNKS
    assert_valid(plan)


def test_the_largest_file_the_rules_allow_and_one_byte_more() -> None:
    largest = (MAX_CHUNKS + 1) * MAX_CHUNK - 1
    plan = chunk_plan(largest)
    assert (plan.chunk_size, plan.total_chunk_count) == (MAX_CHUNK, MAX_CHUNKS)
    assert plan.ranges[-1][1] - plan.ranges[-1][0] + 1 == 2 * MAX_CHUNK - 1
    assert_valid(plan)
    with pytest.raises(TikTokBadRequest, match="at most 1000 chunks"):
        chunk_plan(largest + 1)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(TikTokBadRequest, match="empty"):
        chunk_plan(0)


def test_plans_for_random_sizes_all_pass_the_fakes_rules() -> None:
    rng = random.Random(45438)
    for _ in range(2000):
        size = rng.choice([rng.randint(1, 10 * MB), rng.randint(1, 70 * 1024 * MB)])
        preferred = rng.choice([MIN_CHUNK, rng.randint(1, 200 * MB)])
        try:
            plan = chunk_plan(size, chunk_size=preferred)
        except TikTokBadRequest:
            assert size >= (MAX_CHUNKS + 1) * MAX_CHUNK
            continue
        assert_valid(plan)


def test_a_file_smaller_than_the_asked_chunk_goes_whole() -> None:
    plan = chunk_plan(10 * MB, chunk_size=MAX_CHUNK)
    assert (plan.chunk_size, plan.total_chunk_count) == (10 * MB, 1)
    assert_valid(plan)
