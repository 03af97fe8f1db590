"""The deterministic-runtime example in docs/testing.md, run as a test; quoted verbatim."""

# --- example: start
import pykka

from mt5guard import Config, start
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import DeterministicRuntime


class Strategy(pykka.ThreadingActor):
    """A host engine's own actor: it runs on the runtime too."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    def on_receive(self, message):
        return self.session.get_price(message).bid


def a_day_of_outages(seed):
    with DeterministicRuntime(seed) as runtime:  # every actor on this thread
        terminal = SimulatedTerminal(runtime.clock, login=5001, server="MetaQuotes-Demo")
        guard = start(Config.default(), clock=runtime.clock, terminals={"demo": terminal})
        strategy = runtime.start(Strategy, guard.session("demo"))
        for hour in range(24):
            if hour % 6 == 0:
                terminal.disconnect(for_seconds=900)
            runtime.advance(3600)  # an hour of probes, restarts and backoff
            assert strategy.ask("EURUSD") > 0  # blocking calls drive the runtime
        guard.stop()
        return runtime.log  # one line per message handled: time, actor, message


def test_a_seed_replays_exactly_and_seeds_explore_interleavings():
    assert a_day_of_outages(seed=1) == a_day_of_outages(seed=1)
    assert a_day_of_outages(seed=1) != a_day_of_outages(seed=2)
# --- example: end


def test_docs_testing_md_quotes_this_example_verbatim() -> None:
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
    source = Path(__file__).read_text(encoding="utf-8")
    example = source.split("# --- example: start\n")[1].split("# --- example: end\n")[0]
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
    assert example in blocks, "docs/testing.md must contain the example of this file verbatim"
