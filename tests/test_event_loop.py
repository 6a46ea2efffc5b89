import asyncio

import pytest

from bot import event_loop


def test_commands_run_on_uvloop_where_it_is_installed():
    uvloop = pytest.importorskip("uvloop")

    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert issubclass(event_loop.run(loop_type()), uvloop.Loop)


def test_a_failing_command_raises_its_own_error():
    async def fail() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        event_loop.run(fail())
