"""The Compare page's sections: launch a learning-rate group, pick runs, compare them live."""

from __future__ import annotations

import streamlit as st

from gan_core.compare import (
    DEFAULT_LEARNING_RATES,
    MAX_RUNS,
    MIN_RUNS,
    comparison_table,
    create_group,
    differing_settings,
    group_runs,
    groups,
    loss_figure,
    parse_learning_rates,
    verdict,
)
from gan_core.runs import Run
from ui import datasets, settings, state, widgets

REFRESH_S = 2.0
GROUP_KEY = "compare_group"
TABLE_COLUMNS = {
    "lr_g": "G learning rate", "lr_d": "D learning rate", "step": "step", "state": "state",
    "d_loss": "D loss", "g_loss": "G loss", "d_real": "D(real)", "d_fake": "D(fake)",
    "images_per_sec": "images/s", "g_stability": "G stability (lower = steadier)",
    "d_stability": "D stability", "IS": "IS", "FID": "FID", "KID": "KID",
}


def launch_section() -> None:
    """Base settings, the learning rates, and the Launch button."""
    pick = state.dataset_pick()
    st.caption(f"Dataset: **{'built-in demo (drawn images)' if pick.is_demo else pick.source}** · classes: "
               f"{', '.join(pick.classes) if pick.classes else 'all'} (change on the Dataset page)")
    with st.expander("Base settings, shared by every run (their learning rate is replaced by the list below)"):
        overrides = settings.settings_form()
    default = ", ".join(f"{rate:g}" for rate in DEFAULT_LEARNING_RATES)
    text = st.text_input("Learning rates to compare", default, key="compare_rates",
                         help=f"{MIN_RUNS} to {MAX_RUNS} values separated by commas. Each becomes one run, used "
                              "for both networks; everything else, including the starting weights and the order "
                              "of the images, is identical.")
    if st.button("Launch comparison", type="primary", icon=":material/compare_arrows:", key="compare_launch"):
        with widgets.user_errors("launching the comparison"):
            rates = parse_learning_rates(text)
            config = settings.build_config(pick, overrides)
            dataset = datasets.load_for_training(config)
            runs = create_group(config, rates, state.run_store(), dataset)
            state.job_manager().submit_group(runs, lambda: dataset)
            st.session_state[GROUP_KEY] = runs[0].read_record()["group"]["id"]
            st.rerun()


def has_groups() -> bool:
    return bool(groups(state.run_store()))


def pick_runs() -> list[Run]:
    """A launched group, or any 2 to 6 runs from the store."""
    store = state.run_store()
    known_groups = groups(store)
    mode = st.radio("Compare", ["A learning-rate group", "Any runs"], horizontal=True, key="compare_mode",
                    index=0 if known_groups else 1)
    if mode == "A learning-rate group":
        if not known_groups:
            st.info("No learning-rate group yet: launch one above.")
            return []
        ids = list(known_groups)
        current = st.session_state.get(GROUP_KEY)
        group_id = st.selectbox("Group", ids, index=ids.index(current) if current in ids else 0,
                                format_func=lambda gid: f"{known_groups[gid]} ({gid})", key="compare_group_pick")
        return group_runs(store, group_id)
    ids = [run.id for run in store.runs()]
    chosen = st.multiselect(f"Runs ({MIN_RUNS} to {MAX_RUNS})", ids, max_selections=MAX_RUNS, key="compare_runs")
    if len(chosen) < MIN_RUNS:
        st.info(f"Pick at least {MIN_RUNS} runs.")
        return []
    return [store.get(run_id) for run_id in chosen]


def comparison(runs: list[Run]) -> None:
    """The live comparison; refreshes while any of the runs is training."""
    if not runs:
        return
    active = any(state.active_job_for(run.id) for run in runs)
    st.fragment(_comparison, run_every=REFRESH_S if active else None)([run.id for run in runs], active)


def _comparison(run_ids: list[str], was_active: bool) -> None:
    store = state.run_store()
    runs = [store.get(run_id) for run_id in run_ids]
    jobs = {job.id: job for job in (state.active_job_for(run.id) for run in runs) if job is not None}
    if bool(jobs) != was_active:
        st.rerun()
    for job in jobs.values():
        _job_controls(job)
    _differences(runs)
    smoothing = st.slider("Curve smoothing", 0.0, 0.99, 0.6, 0.01, key="compare_smoothing",
                          help="Averages out step-to-step noise; the stability figures use the raw values.")
    st.plotly_chart(loss_figure(runs, smoothing), key="compare_curves")
    _grids(runs)
    table = comparison_table(runs)
    shown = table[[column for column in TABLE_COLUMNS if column in table]].rename(columns=TABLE_COLUMNS)
    st.dataframe(shown, hide_index=True, column_config={"G learning rate": st.column_config.NumberColumn(format="%g"),
                                                        "D learning rate": st.column_config.NumberColumn(format="%g")})
    st.info(verdict(table), icon=":material/balance:")
    st.caption("Stability: standard deviation of the step-to-step change of each loss over the last 200 logged "
               "steps. Losses, D(real) and D(fake) are means over the same window.")
    _downloads(table, runs, smoothing)


def _job_controls(job) -> None:
    widgets.job_progress(job, label="Group" if job.group else job.run.id)
    manager = state.job_manager()
    left, right, _ = st.columns([1, 1, 5])
    if job.state == "paused":
        left.button("Resume", key=f"compare_unpause_{job.id}", on_click=manager.resume, args=(job.id,))
    else:
        left.button("Pause", key=f"compare_pause_{job.id}", on_click=manager.pause, args=(job.id,))
    right.button("Stop", key=f"compare_stop_{job.id}", on_click=manager.stop, args=(job.id,))


def _differences(runs: list[Run]) -> None:
    differing = {key: values for key, values in differing_settings(runs).items() if key not in ("extra",)}
    others = {key: values for key, values in differing.items() if key not in ("lr_g", "lr_d")}
    if others:
        lines = "; ".join(f"**{key}**: {', '.join(str(v) for v in values)}" for key, values in others.items())
        st.warning(f"These runs differ in more than the learning rate, so the comparison is not like for like: "
                   f"{lines}.", icon=":material/warning:")
    elif differing:
        st.caption("The runs differ only in learning rate.")


def _grids(runs: list[Run]) -> None:
    """Sample grids of every run side by side, at one shared step."""
    per_run = [dict(run.samples()) for run in runs]
    shared = sorted(set.intersection(*(set(samples) for samples in per_run)))
    if not shared:
        st.caption("Sample grids appear here once every run has drawn one at the same step.")
        return
    step = shared[-1]
    if len(shared) > 1:
        step = st.select_slider("Sample grids at step", options=shared, value=shared[-1], key="compare_step")
    for column, run, samples in zip(st.columns(len(runs)), runs, per_run, strict=True):
        config = run.config()
        rate = f"{config.lr_g:g}" if config.lr_g == config.lr_d else f"G {config.lr_g:g} / D {config.lr_d:g}"
        column.image(str(samples[step]), caption=f"lr {rate} · step {step:,}")


def _downloads(table, runs: list[Run], smoothing: float) -> None:
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("Table (CSV)", lambda: table.to_csv(index=False), file_name="comparison.csv", mime="text/csv",
                         key="compare_csv", icon=":material/download:")
    def curves_html() -> str:  # built only when clicked; embeds plotly.js so it opens offline
        return loss_figure(runs, smoothing).to_html(include_plotlyjs=True, full_html=True)

    right.download_button("Curves (HTML)", curves_html, file_name="comparison_curves.html", mime="text/html",
                          key="compare_html", icon=":material/download:")
