"""What a user sees in the Dagster UI (`k2 dagster`) in a real browser, after the medallion drained real trades."""

from __future__ import annotations

import re

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from playwright.sync_api import expect

from k2_platform.definitions import build_definitions
from k2_platform_tests.assets.dagster_steps import produce_valid
from k2_platform_tests.assets.medallion_harness import drain_all
from k2_platform_tests.ui.dagster_ui import code_location, dagster_ui

pytestmark = [pytest.mark.integration, pytest.mark.dagster, pytest.mark.slow]

TRADES = 300  # valid, distinct trades over both exchanges: all of them reach gold


def assets_by_group(defs) -> dict[str, list[str]]:
    """group -> its assets' names as the UI's lists print them ("kafka / trades_binance")."""
    graph, groups = defs.resolve_asset_graph(), {}
    for key in sorted(graph.get_all_asset_keys()):
        groups.setdefault(graph.get(key).group_name, []).append(" / ".join(key.path))
    return groups


def drained_into_gold(settings) -> int:
    """Produce TRADES trades, drain them bronze -> silver -> gold through the real jobs into the UI's instance; gold's rows_written."""
    produce_valid(settings, range(TRADES))
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        _defs, runs = drain_all(settings, instance)
        assert runs and all(run.success for run in runs)
        latest = instance.get_latest_materialization_event(AssetKey("gold_trades")).asset_materialization
        return latest.metadata["rows_written"].value


def gold_checks(defs) -> dict[str, str]:
    """gold_trades' asset checks: name -> description (the check page's About text)."""
    graph = defs.resolve_asset_graph()
    return {key.name: graph.get_check_spec(key).description for key in graph.get(AssetKey("gold_trades")).check_keys}


def test_the_ui_shows_every_group_and_asset_and_gold_with_its_rows_and_passed_checks(settings, catalog, page, tmp_path):
    rows_written = drained_into_gold(settings)
    assert rows_written == TRADES
    defs = build_definitions(settings)
    groups, checks = assets_by_group(defs), gold_checks(defs)
    assert {"kafka", "bronze", "silver", "gold", "maintenance", "costs"} <= set(groups)
    assert {"gold_message_id_unique", "gold_rows_valid", "gold_within_silver"} <= set(checks)
    with dagster_ui(settings) as url:
        page.goto(f"{url}/asset-groups")  # the global asset lineage: one entry per group in its side bar
        expect(page.get_by_text("Global asset lineage")).to_be_visible()
        for group in groups:
            expect(page.get_by_role("button", name=re.compile(rf"(^|\s){re.escape(group)}(\s|$)"))).to_be_visible()
        page.screenshot(path=tmp_path / "lineage.png")
        repo = f"{SINGLETON_REPOSITORY_NAME}@{code_location()}"
        for group, assets in groups.items():  # each group's own list: its name, and a link to each of its assets
            page.goto(f"{url}/locations/{repo}/asset-groups/{group}/list")
            expect(page.get_by_text("Asset Group in")).to_be_visible()
            for asset in assets:
                link = page.locator(f'a[href="/assets/{asset.replace(" / ", "/")}"]').filter(has_text=asset)
                expect(link.first).to_be_visible()

        page.goto(f"{url}/assets/gold_trades")  # overview: the latest materialization's metadata table
        expect(page.get_by_role("row", name=re.compile(r"^rows_written ")).get_by_role("cell").last).to_have_text(str(rows_written))
        page.screenshot(path=tmp_path / "gold_trades.png", full_page=True)
        page.goto(f"{url}/assets/gold_trades?view=checks")
        # The list is rendered (every check's latest run) before anything in it is clicked: a click during loading is lost.
        expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(checks))
        for name, description in sorted(checks.items()):  # select each check in the list, as a user clicks it
            page.get_by_text(name, exact=True).first.click()
            expect(page).to_have_url(re.compile(rf"checkDetail={name}(&|$)"))
            expect(page.get_by_text(description, exact=True)).to_be_visible()
            expect(page.get_by_text("Evaluation result")).to_be_visible()
            expect(page.get_by_text("Passed", exact=True)).to_be_visible()
            expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(checks))  # the list: every check's latest run
        page.screenshot(path=tmp_path / "gold_checks.png", full_page=True)
