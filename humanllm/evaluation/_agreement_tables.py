"""The agreement report as tables: judges and their aggregate, alphas, the items most disagreed on, the probe."""

from __future__ import annotations

from collections.abc import Mapping

from humanllm.evaluation._agreement import ALPHA_METRICS, AgreementReport
from humanllm.evaluation._scoring import HOLISTIC, METRICS, ScoreReport
from humanllm.evaluation._stats import Alpha
from humanllm.evaluation._tables import METRIC_NAMES, Table, fmt, headline

AGGREGATED = "judges aggregated"
_ALPHA_NAMES = {**METRIC_NAMES, "items": "all items"}


def _num(value: float | None, digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _alpha(alpha: Alpha | None) -> str:
    if alpha is None:
        return "–"
    if alpha.value is None:
        return f"– ({alpha.reason.split(':')[0]}; n={alpha.values})"
    return f"{alpha.value:.2f} (n={alpha.values})"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def agreement_tables(agreement: AgreementReport, reports: Mapping[str, ScoreReport] | None = None) -> list[Table]:
    """Judges (their headline and the aggregate), agreement, most disagreed items, social-desirability probe.

    `reports`: judge -> its scores, for the judges' own rows (those not given are left out).
    """
    return [
        _judges_table(agreement, reports or {}),
        _alpha_table(agreement),
        _disagreement_table(agreement),
        _probe_table(agreement),
    ]


def _judges_table(agreement: AgreementReport, reports: Mapping[str, ScoreReport]) -> Table:
    shown = [judge for judge in agreement.judges if judge in reports]
    rows = [[judge, *(fmt(headline(reports[judge]).get(m)) for m in METRICS)] for judge in shown]
    aggregated = agreement.aggregated.headline()
    rows.append([AGGREGATED, *(fmt(aggregated.get(m)) for m in METRICS)])
    return Table(
        title="Judges",
        headers=["judge", *(METRIC_NAMES[m] for m in METRICS)],
        rows=rows,
        note=f"mean ± SD over {agreement.runs} run(s); {AGGREGATED}: per run each item's mean over the judges, "
        "then scored as one judge",
    )


def _alpha_table(agreement: AgreementReport) -> Table:
    rows = [["across judges (run 0)", *(_alpha(agreement.across_judges.get(m)) for m in ALPHA_METRICS)]]
    rows += [
        [f"across runs: {judge}", *(_alpha(alphas.get(m)) for m in ALPHA_METRICS)]
        for judge, alphas in agreement.across_runs.items()
    ]
    return Table(
        title="Agreement (Krippendorff's alpha)",
        headers=["", *(_ALPHA_NAMES[m] for m in ALPHA_METRICS)],
        rows=rows,
        note="ordinal alpha on the ternary items (units: sample x item), interval alpha on the 0-100 holistic "
        "scores; n = pairable values; n/a and unscored items are missing values"
        + ("" if agreement.across_runs else "; across runs needs --runs 2 or more"),
    )


def _disagreement_table(agreement: AgreementReport) -> Table:
    rows = [
        [
            item.item,
            item.pattern or f"MPD of {item.character} ({(item.episode_id or '')[:10]})",
            _clip(item.question),
            str(item.samples),
            f"{item.disagreeing}/{item.pairs}",
            f"{100 * item.share:.0f}%",
            ", ".join(_num(item.means.get(judge), 2, sign=True) for judge in agreement.judges),
        ]
        for item in agreement.disagreements
    ]
    return Table(
        title="Items the judges disagree on most",
        headers=["item", "pattern", "question", "samples", "disagreeing pairs", "share", "mean score by judge"],
        rows=rows,
        left=3,
        note=(
            "run 0 of each judge; share = judge pairs giving different scores / pairs that both scored the item; "
            f"mean score (-1..1) in judge order: {', '.join(agreement.judges)}"
            if rows
            else "the judges gave the same score to every item two of them scored"
        ),
    )


def _probe_table(agreement: AgreementReport) -> Table:
    rows = []
    for judge, probe in agreement.desirability.items():
        for name, group in (("prosocial", probe.prosocial), ("antisocial", probe.antisocial)):
            rows.append(
                [
                    judge,
                    name,
                    str(group.samples),
                    _num(group.ipe),
                    _num(group.ipe_0_100),
                    *(cell for m in HOLISTIC for cell in (_num(getattr(group, m)), _num(group.gap[m], sign=True))),
                ]
            )
        rows.append(
            [
                judge,
                "prosocial - antisocial",
                f"{probe.both + probe.neither} left out",
                "",
                "",
                *(cell for m in HOLISTIC for cell in ("", _num(probe.headline[m], sign=True))),
            ]
        )
    return Table(
        title="Social-desirability probe",
        headers=[
            "judge",
            "characters",
            "samples",
            "IPE",
            "IPE 0-100",
            "Anthropomorphism",
            "gap",
            "Fidelity",
            "gap",
        ],
        rows=rows,
        left=2,
        note="prosocial: Agreeableness positive-pole markers, gratitude mechanism, reciprocity principle; "
        "antisocial: Agreeableness negative-pole markers, sadistic pleasure; a character with both or neither is "
        "left out. IPE 0-100 = (IPE + 100) / 2; gap = holistic - IPE 0-100; prosocial - antisocial > 0: the "
        "holistic score rewards prosocial characters beyond what the checklist finds",
    )
