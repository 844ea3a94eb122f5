"""GrowthBook's stats engine as a JSON filter: Gold's tests send it cases and compare the answers.

stdin: {"cases": [{"rows": [...], "metric": {...}, "analysis": {...}}]}, where `rows` are
GrowthBook's long-format query rows (`dimension`, `variation` and the SUM_COLS: `users`,
`count`, `main_sum`, ...), `metric` a MetricSettingsForStatsEngine and `analysis` an
AnalysisSettingsForStatsEngine, as keyword arguments.
stdout: {"results": [[{"dimension", "srm_p", "variations": [{"expected", "ci", "p_value",
"chance_to_win", "risk", "error"}]}]]}: per case, per dimension, per non-baseline variation.
"""

import json
import math
import sys

import pandas as pd
from gbstats.gbstats import analyze_metric_df, get_metric_df
from gbstats.models.settings import AnalysisSettingsForStatsEngine, MetricSettingsForStatsEngine


def _number(value):
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _case(case):
    analysis = AnalysisSettingsForStatsEngine(**case["analysis"])
    metric = MetricSettingsForStatsEngine(**case["metric"])
    var_id_map = {variation: i for i, variation in enumerate(analysis.var_ids)}
    frame = get_metric_df(pd.DataFrame(case["rows"]), var_id_map, analysis.var_names)
    analysed = analyze_metric_df(frame, metric, analysis)
    answer = []
    for _, row in analysed.iterrows():
        variations = []
        for i in range(1, len(analysis.var_ids)):
            risk = row.get(f"v{i}_risk")
            variations.append(
                {
                    "expected": _number(row[f"v{i}_expected"]),
                    "ci": [_number(bound) for bound in row[f"v{i}_ci"]],
                    "p_value": _number(row.get(f"v{i}_p_value")),
                    "chance_to_win": _number(row.get(f"v{i}_prob_beat_baseline")),
                    "risk": None if risk is None else [_number(r) for r in risk],
                    "error": row.get(f"v{i}_error_message"),
                }
            )
        answer.append(
            {"dimension": row["dimension"], "srm_p": _number(row["srm_p"]), "variations": variations}
        )
    return answer


def main():
    request = json.load(sys.stdin)
    json.dump({"results": [_case(case) for case in request["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
