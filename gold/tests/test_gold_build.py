"""Gold recomputed from a Silver Delta table: exposures, conversions, statistics, idempotence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest

from accord.gold.build import build_gold
from accord.gold.experiments_config import Aggregate, ExperimentConfig, Metric
from accord.gold.tables import daily_active_users_path, daily_events_path, experiment_results_path
from accord.streaming.delta_io import read_table
from accord.streaming.errors import TableNotFoundError
from accord.streaming.lake import Lake
from accord.streaming.testing import SILVER_DDL, T0, SilverWriter, silver_event

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

CHECKOUT = ExperimentConfig(
    experiment_id="new_checkout",
    control="control",
    variants={"control": 0.5, "treatment": 0.5},
    conversion_event="purchase",
    window_hours=72,
)
HOUR = timedelta(hours=1)
WATERMARK_DELAY = timedelta(minutes=10)


def _scenario() -> list[dict[str, Any]]:
    rows = []
    for i in range(4):
        rows.append(silver_event("experiment_exposure", f"c{i}", T0 + i * HOUR, variant="control"))
        rows.append(silver_event("experiment_exposure", f"t{i}", T0 + i * HOUR, variant="treatment"))
    # c0 buys inside the window, twice; c1 bought before its exposure; c2 after the 72 h window
    rows += [
        silver_event("purchase", "c0", T0 + 2 * HOUR, amount="10.00"),
        silver_event("purchase", "c0", T0 + 70 * HOUR, amount="5.50"),
        silver_event("purchase", "c1", T0 - HOUR, amount="99.00"),
        silver_event("purchase", "c2", T0 + 2 * HOUR + 73 * HOUR, amount="40.00"),
    ]
    # t0 and t1 buy; t1 is an anonymous user throughout
    rows += [silver_event("purchase", "t0", T0 + 5 * HOUR, amount="20.00")]
    rows[3] = silver_event("experiment_exposure", "t1", T0 + HOUR, variant="treatment", anonymous=True)
    rows += [silver_event("purchase", "t1", T0 + 6 * HOUR, amount="30.00", anonymous=True)]
    # m0 is bucketed into both variants: excluded and counted
    rows += [
        silver_event("experiment_exposure", "m0", T0, variant="control"),
        silver_event("experiment_exposure", "m0", T0 + HOUR, variant="treatment"),
        silver_event("purchase", "m0", T0 + 2 * HOUR, amount="1000.00"),
    ]
    rows += [silver_event("page_view", "c3", T0 + 100 * HOUR)]
    return rows


def _results(spark: SparkSession, lake: Lake) -> dict[tuple[str, str], dict[str, Any]]:
    rows = read_table(spark, experiment_results_path(lake)).where("dimension = ''").collect()
    return {(r["variant"], r["metric"]): r.asDict() for r in rows}


def test_exposures_and_conversions_follow_the_first_exposure_and_the_window(
    spark: SparkSession, lake: Lake, write_silver: SilverWriter
) -> None:
    write_silver(_scenario())
    build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    results = _results(spark, lake)

    control, treatment = results["control", "conversion_rate"], results["treatment", "conversion_rate"]
    assert (control["users"], control["main_sum"], control["mean"]) == (4, 1.0, 0.25)
    assert (treatment["users"], treatment["main_sum"], treatment["mean"]) == (4, 2.0, 0.5)
    assert treatment["absolute_lift"] == pytest.approx(0.25)
    assert treatment["absolute_ci_low"] < 0.25 < treatment["absolute_ci_high"]
    assert 0 < treatment["p_value"] < 1
    assert control["absolute_lift"] is None

    revenue_c, revenue_t = results["control", "revenue_per_user"], results["treatment", "revenue_per_user"]
    assert (revenue_c["main_sum"], revenue_c["main_sum_squares"]) == (15.5, 15.5**2)
    assert (revenue_t["main_sum"], revenue_t["main_sum_squares"]) == (50.0, 20.0**2 + 30.0**2)
    assert revenue_t["mean"] == pytest.approx(12.5)

    assert control["multiple_exposure_users"] == 1
    assert control["multiple_exposure_share"] == pytest.approx(1 / 9)
    assert control["multiple_exposure_warning"] is True
    assert control["srm_mismatch"] is False
    assert control["late_events"] == 0
    assert control["complete_up_to"] == T0 + 100 * HOUR - WATERMARK_DELAY


def test_rebuilding_is_idempotent_and_late_events_update_the_answer(
    spark: SparkSession, lake: Lake, write_silver: SilverWriter
) -> None:
    write_silver(_scenario())
    first = build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    before = _results(spark, lake)
    second = build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    again = _results(spark, lake)
    assert second.silver_version == first.silver_version

    def without_time(rows: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {key: {k: v for k, v in row.items() if k != "computed_at"} for key, row in rows.items()}

    assert without_time(again) == without_time(before)
    assert len(again) == 4

    # c3 bought a day after exposure, but the device only delivered it 30 hours later
    write_silver([silver_event("purchase", "c3", T0 + 3 * HOUR + 24 * HOUR, amount="8.00", late=True)])
    third = build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    after = _results(spark, lake)
    assert third.silver_version == first.silver_version + 1
    assert after["control", "conversion_rate"]["main_sum"] == 2.0
    assert after["control", "conversion_rate"]["late_events"] == 1
    assert after["control", "conversion_rate"]["silver_version"] == third.silver_version


def test_a_skewed_split_is_flagged_as_sample_ratio_mismatch(
    spark: SparkSession, lake: Lake, write_silver: SilverWriter
) -> None:
    write_silver(
        silver_event("experiment_exposure", f"u{i}", T0, variant="control" if i < 300 else "treatment")
        for i in range(500)
    )
    build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    control = _results(spark, lake)["control", "conversion_rate"]
    assert control["srm_mismatch"] is True
    assert control["srm_p_value"] < 0.001
    assert control["analysis_note"] is None
    treatment = _results(spark, lake)["treatment", "conversion_rate"]
    assert treatment["p_value"] is None
    assert treatment["analysis_note"] == "the control's mean is 0, so a relative lift is undefined"


def test_named_conversion_events_count_with_their_value(
    spark: SparkSession, lake: Lake, write_silver: SilverWriter
) -> None:
    signup_test = CHECKOUT.model_copy(update={"experiment_id": "onboarding", "conversion_event": "activated"})
    write_silver(
        [
            silver_event("experiment_exposure", "a", T0, variant="control", experiment="onboarding"),
            silver_event("experiment_exposure", "b", T0, variant="treatment", experiment="onboarding"),
            silver_event("conversion", "b", T0 + HOUR, name="activated", amount="3.00"),
            silver_event("conversion", "a", T0 + HOUR, name="something_else"),
        ]
    )
    build_gold(spark, lake, [signup_test], WATERMARK_DELAY)
    results = _results(spark, lake)
    assert results["treatment", "conversion_rate"]["main_sum"] == 1.0
    assert results["control", "conversion_rate"]["main_sum"] == 0.0
    assert results["treatment", "revenue_per_user"]["main_sum"] == 3.0


def test_event_types_silver_has_not_seen_yet_count_as_none(
    spark: SparkSession, lake: Lake, write_silver: SilverWriter
) -> None:
    rows = [
        silver_event("experiment_exposure", "a", T0, variant="control"),
        silver_event("experiment_exposure", "b", T0, variant="treatment"),
        silver_event("page_view", "b", T0 + HOUR),
    ]
    write_silver(rows, without=("purchase", "conversion"))
    build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    results = _results(spark, lake)
    assert results["treatment", "conversion_rate"]["users"] == 1
    assert results["treatment", "conversion_rate"]["main_sum"] == 0.0


def test_daily_metrics_count_events_and_active_users(
    spark: SparkSession, lake: Lake, write_silver: SilverWriter
) -> None:
    write_silver(
        [
            silver_event("page_view", "a", T0),
            silver_event("page_view", "a", T0 + HOUR),
            silver_event("page_view", "b", T0),
            silver_event("purchase", "b", T0, amount="1.00"),
            silver_event("page_view", "a", T0 + 24 * HOUR),
        ]
    )
    build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)
    events = {
        (str(r["event_date"]), r["event_type"]): (r["events"], r["users"])
        for r in read_table(spark, daily_events_path(lake)).collect()
    }
    assert events == {
        ("2026-03-02", "page_view"): (3, 2),
        ("2026-03-02", "purchase"): (1, 1),
        ("2026-03-03", "page_view"): (1, 1),
    }
    active_rows = read_table(spark, daily_active_users_path(lake)).collect()
    active = {str(r["event_date"]): r["active_users"] for r in active_rows}
    assert active == {"2026-03-02": 2, "2026-03-03": 1}


def test_gold_without_silver_says_so(spark: SparkSession, lake: Lake) -> None:
    with pytest.raises(TableNotFoundError, match=r"no Delta table at .*silver/events"):
        build_gold(spark, lake, [CHECKOUT], WATERMARK_DELAY)


CONFIGURED = CHECKOUT.model_copy(
    update={
        "experiment_id": "configured",
        "cuped": True,
        "dimensions": ("platform",),
        "metrics": (
            Metric(
                name="eur_buyers", kind="binomial", event="purchase", filters={"currency": "EUR"}, role="goal"
            ),
            Metric(name="orders", kind="count", event="purchase"),
            Metric(
                name="revenue_per_order",
                kind="ratio",
                numerator=Aggregate(kind="sum", event="purchase", field="amount"),
                denominator=Aggregate(kind="count", event="purchase"),
            ),
            Metric(name="early_views", kind="count", event="page_view", window_hours=1, role="guardrail"),
        ),
    }
)


def test_configured_metrics_windows_filters_covariates_and_dimensions(
    spark: SparkSession, lake: Lake
) -> None:
    def on(platform: str, row: dict[str, Any]) -> dict[str, Any]:
        return row | {"context": {"platform": platform}}

    exposure = partial(silver_event, "experiment_exposure", experiment="configured")
    rows = [
        on("WEB", exposure("c0", T0, variant="control")),
        on("IOS", exposure("c1", T0, variant="control")),
        on("WEB", exposure("t0", T0, variant="treatment")),
        on("IOS", exposure("t1", T0, variant="treatment")),
        # c0: two orders in the window; c1: one before exposure (the covariate) and one in USD
        silver_event("purchase", "c0", T0 + HOUR, amount="10.00"),
        silver_event("purchase", "c0", T0 + 2 * HOUR, amount="30.00"),
        silver_event("purchase", "c1", T0 - HOUR, amount="99.00"),
        silver_event("purchase", "c1", T0 + HOUR, amount="5.00")
        | {"purchase": {"order_id": "o-usd", "amount": Decimal("5.00"), "currency": "USD"}},
        silver_event("purchase", "t1", T0 + 3 * HOUR, amount="12.00"),
        # page views: t0 within the guardrail's hour, then later
        silver_event("page_view", "t0", T0 + HOUR / 2),
        silver_event("page_view", "t0", T0 + 2 * HOUR),
    ]
    ddl = SILVER_DDL.replace("session_id string, ", "session_id string, context struct<platform: string>, ")
    frame = spark.createDataFrame(rows, ddl)
    frame.write.format("delta").partitionBy("event_date", "event_type").save(lake.silver)

    run = build_gold(spark, lake, [CONFIGURED], WATERMARK_DELAY)
    by_key = {(r.metric, r.dimension_value, r.variant): r for r in run.results}

    assert by_key["eur_buyers", "All", "control"].main_sum == 1.0  # c1's order was in USD
    assert by_key["orders", "All", "control"].main_sum == 3.0
    assert by_key["orders", "All", "control"].covariate_sum == 1.0  # c1's order before exposure
    ratio = by_key["revenue_per_order", "All", "control"]
    assert (ratio.main_sum, ratio.denominator_sum) == (45.0, 3.0)
    assert ratio.main_denominator_sum_product == 40.0 * 2 + 5.0 * 1
    assert by_key["early_views", "All", "treatment"].main_sum == 1.0
    assert by_key["early_views", "All", "treatment"].role == "guardrail"
    web, ios = by_key["orders", "WEB", "control"], by_key["orders", "IOS", "control"]
    assert (web.dimension, web.users, web.main_sum) == ("platform", 1, 2.0)
    assert (ios.users, ios.main_sum) == (1, 1.0)
    assert by_key["orders", "IOS", "treatment"].main_sum == 1.0
    assert {r.started_at for r in run.results} == {T0}
