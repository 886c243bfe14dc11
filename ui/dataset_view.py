"""The Dataset page's sections: where the images come from, what is in them, which classes to train on."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gan_core.data import ImageDataset
from ui import charts, datasets, state, widgets

KINDS = ("Built-in demo", "Folder on the server", "Upload a .zip")


def source_picker() -> None:
    """Choose demo / folder / zip; a successful load becomes this session's dataset."""
    if "dataset_kind" not in st.session_state:
        st.session_state["dataset_kind"] = _kind_of(state.dataset_pick().source)
    kind = st.radio("Where are the images?", KINDS, key="dataset_kind", horizontal=True,
                    help="The demo needs nothing and works offline. Your own images: one subfolder per class "
                         "(e.g. cardboard/, metal/), as a folder on the machine running SynthBin or as a .zip.")
    source = None
    if kind == KINDS[0]:
        if st.button("Use the demo dataset", key="load_demo"):
            source = state.DEMO_SOURCE
    elif kind == KINDS[1]:
        folder = st.text_input("Folder path on the server", key="dataset_folder",
                               placeholder="/data/garbage_classification",
                               help="A folder with one subfolder per class, on the machine running SynthBin.")
        if st.button("Load folder", key="load_folder", disabled=not (folder or "").strip()):
            source = folder.strip()
    else:
        upload = st.file_uploader("A .zip of class folders", type=["zip"], key="zip_upload",
                                  help="Unpacked once into SynthBin's cache; the size limit is set in "
                                       ".streamlit/config.toml (server.maxUploadSize).")
        if st.button("Load zip", key="load_zip", disabled=upload is None) and upload is not None:
            with widgets.user_errors("saving the upload"):
                source = str(datasets.save_upload(upload, upload.name))
    if source is not None:
        _load(source)


def _kind_of(source: str) -> str:
    if source == state.DEMO_SOURCE:
        return KINDS[0]
    return KINDS[2] if datasets.is_upload(source) else KINDS[1]


def _load(source: str) -> None:
    with widgets.user_errors("loading the dataset"):
        datasets.load_preview(source, refresh=True)
        state.set_dataset_source(source)


def current_dataset() -> ImageDataset:
    """The session's dataset (loading it if this server has not yet); stops the page if it cannot."""
    pick = state.dataset_pick()
    dataset = datasets.cached_preview(pick.source)
    if dataset is None and pick.is_demo and not datasets.demo_is_drawn():
        st.info("The built-in demo is drawn on this computer the first time it is used, which takes about a "
                "minute. Press **Use the demo dataset** to draw it, or load your own images.")
        st.stop()
    if dataset is None:
        with widgets.user_errors("loading the dataset"):
            dataset = datasets.load_preview(pick.source)
    if dataset is None:
        st.info("Choose another dataset above.")
        st.stop()
    return dataset


def overview(dataset: ImageDataset) -> None:
    """Class picker, counts, warnings, thumbnails and skipped files of ``dataset``."""
    st.subheader(f"Dataset: {datasets.describe_source(dataset.source)}", divider="gray")
    picked = class_picker(dataset)
    counts = dataset.counts()
    picked_counts = {name: counts[name] for name in picked}
    columns = st.columns(3)
    columns[0].metric("Images picked", f"{sum(picked_counts.values()):,}")
    columns[1].metric("Classes picked", f"{len(picked)} of {len(counts)}")
    columns[2].metric("Files skipped", f"{len(dataset.skipped):,}")
    if not picked:
        st.error("No class is picked: pick at least one class to train on.")
    for message in datasets.warnings_for(picked_counts, is_demo=dataset.is_demo):
        st.warning(message, icon=":material/warning:")
    st.plotly_chart(charts.class_count_figure(counts, picked), key="dataset_counts_chart")
    thumbnails(dataset, picked or list(dataset.class_names))
    skipped_files(dataset)


def class_picker(dataset: ImageDataset) -> list[str]:
    names = list(dataset.class_names)
    current = st.session_state.get(state.CLASSES_KEY)
    st.session_state[state.CLASSES_KEY] = names if current is None else [c for c in current if c in names]
    return st.multiselect("Classes to train on", names, key=state.CLASSES_KEY,
                          help="The GAN learns from the images of these classes only. Fewer, similar classes "
                               "train faster and look better.")


def thumbnails(dataset: ImageDataset, names: list[str]) -> None:
    st.markdown(f"**A look at the images** (as the GAN sees them, resized to {dataset.image_size} px)")
    for tab, name in zip(st.tabs(names), names, strict=True):
        with tab:
            grid = datasets.class_thumbnails(dataset, name)
            st.image(grid, width=min(2 * grid.width, 1000))


def skipped_files(dataset: ImageDataset) -> None:
    if dataset.empty_classes:
        st.warning(f"Class folders without a usable image (left out): {', '.join(dataset.empty_classes)}")
    skipped = dataset.skipped
    if not skipped:
        return
    with st.expander(f"{len(skipped):,} file(s) skipped, with the reason"):
        frame = pd.DataFrame([{"File": item.path, "Reason": item.reason} for item in skipped])
        st.dataframe(frame, hide_index=True, width="stretch")
