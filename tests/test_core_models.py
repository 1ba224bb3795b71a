from __future__ import annotations

import pytest
from pydantic import ValidationError

from humanllm.core import (
    CharacterProfile,
    ChecklistItem,
    Conversation,
    Episode,
    Metric,
    Scenario,
    ScenarioChecklist,
    Score,
    Turn,
    Verdict,
    render_turns,
    slugify,
)


def _scenario() -> Scenario:
    return Scenario(
        patterns=["confirmation bias", "shy"],
        situation="duty",
        analysis="Ann's certainty meets Ben's reluctance to speak up.",
        background="A cramped office on a Friday evening; the report is due.",
        protagonist=CharacterProfile(name="Ann", about_self="Team lead; proud, quick.", about_others="Ben: slow."),
        supporting=[CharacterProfile(name="Ben", about_self="Analyst; shy, careful.", about_others="Ann: bossy.")],
        char2pattern={"Ann": ["confirmation bias"], "Ben": ["shy"]},
        checklists=[ScenarioChecklist(character="Ann", items=["Dismisses Ben's doubts about the numbers."])],
    )


def test_episode_round_trips_through_json() -> None:
    conversation = Conversation(
        turns=[
            Turn(
                speaker="Ben",
                thought="She won't like this.",
                action="looks down",
                speech="The numbers are off.",
            ),
            Turn(speaker="Ann", thought="He always panics.", action="waves a hand", speech="They're fine."),
        ],
        ended_by="natural close",
    )
    episode = Episode(id="abc", scenario=_scenario(), conversation=conversation, seed=7, models={"character": "local"})
    again = Episode.model_validate_json(episode.model_dump_json())
    assert again == episode
    assert again.scenario.characters[1].name == "Ben"


def test_turn_trinity_text_and_visibility() -> None:
    turn = Turn(speaker="Ann", thought="Hm.", action="frowns", speech="Really?")
    assert turn.as_trinity() == "[Hm.] (frowns) Really?"
    assert turn.as_trinity(with_thought=False) == "(frowns) Really?"
    assert turn.visible().thought == ""


def test_transcript_hides_other_speakers_thoughts() -> None:
    conversation = Conversation(
        turns=[
            Turn(speaker="Ann", thought="secret-a", speech="Hi"),
            Turn(speaker="Ben", thought="secret-b", speech="Yo"),
        ]
    )
    seen_by_ann = render_turns(conversation.turns, "Ann")
    assert seen_by_ann == "Ann: [secret-a] Hi\nBen: Yo"
    assert render_turns(conversation.turns) == "Ann: [secret-a] Hi\nBen: [secret-b] Yo"
    assert render_turns(conversation.turns, "Ben", numbered=True) == "1. Ann: Hi\n2. Ben: [secret-b] Yo"


def test_verdict_allows_unscored_but_not_other_scores() -> None:
    assert not Verdict(item_id="x", score=None, reason="unparseable").scored
    assert Verdict(item_id="x", score=Score.CONTRADICTED).score == -1
    with pytest.raises(ValidationError):
        Verdict(item_id="x", score=2)  # type: ignore[arg-type]
    item = ChecklistItem(id="ipe-1", metric=Metric.IPE, question="Does it?", pattern="shy")
    assert ChecklistItem.model_validate_json(item.model_dump_json()) == item


def test_slugify_matches_card_id_rules() -> None:
    assert slugify("pleasure principle & reality principle") == "pleasure-principle-and-reality-principle"
    assert slugify("at ease") == "at-ease"
    assert slugify("soft-hearted") == "soft-hearted"
    assert slugify("observer-expectancy effect") == "observer-expectancy-effect"


def test_run_bounded_keeps_at_most_n_in_flight_and_stops_on_a_permanent_error() -> None:
    import asyncio

    from humanllm.core import run_bounded
    from humanllm.errors import PermanentEndpointError

    in_flight, peak, started = 0, 0, []

    async def work(item: int) -> None:
        nonlocal in_flight, peak
        started.append(item)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        if item == 3:
            raise RuntimeError("wrapped") from PermanentEndpointError("401")

    asyncio.run(run_bounded(range(3), work, limit=2))
    assert peak == 2 and started == [0, 1, 2]
    started.clear()
    with pytest.raises(PermanentEndpointError, match="401"):
        asyncio.run(run_bounded(range(20), work, limit=2))
    assert len(started) < 20  # nothing starts after the permanent error, the jobs in flight end
    with pytest.raises(ValueError):  # any other error propagates

        async def bad(item: int) -> None:
            raise ValueError(item)

        asyncio.run(run_bounded([1], bad, limit=1))
