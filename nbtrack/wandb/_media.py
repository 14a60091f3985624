"""``wandb.Image`` and ``wandb.Table``: what ``wandb.log`` stores as artifacts of the run.

An image logged under ``key`` at step ``s`` becomes ``media/images/<key>_<s>.png`` (a list of
images: ``<key>_<s>_<i>.png``); a table becomes ``media/tables/<key>_<s>.parquet`` (``.csv``
when its columns hold mixed types Parquet cannot store).

>>> import numpy as np
>>> from nbtrack.wandb import Image, Table
>>> Image(np.zeros((8, 8, 3))).png[:4]
b'\\x89PNG'
>>> Table(columns=["epoch", "acc"], data=[[0, 0.5], [1, 0.7]]).data
[[0, 0.5], [1, 0.7]]
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..extras import optional
from .errors import NotSupportedError


class Image:
    """An image to log: a numpy array (H x W, H x W x C or C x H x W; floats in [0, 1] or any
    range, scaled as W&B scales them), a PIL image, a matplotlib figure, a torch tensor or the
    path of an image file. It is encoded as PNG when made (so later changes to the array do not
    change it); ``caption`` is kept in the PNG's text.

    Segmentation masks, bounding boxes and class labels are not supported.
    """

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        grouping: int | None = None,
        classes: Any = None,
        boxes: Any = None,
        masks: Any = None,
        file_type: str | None = None,
        normalize: bool = True,
    ) -> None:
        if classes is not None or boxes is not None or masks is not None:
            raise NotSupportedError(
                "wandb.Image(boxes=, masks=, classes=) is not supported by nbtrack.wandb: draw "
                "the boxes or masks onto the image (e.g. with PIL.ImageDraw) and log that, or "
                "save the annotations to a file and wandb.save it"
            )
        if file_type not in (None, "png"):
            raise NotSupportedError(
                f"wandb.Image(file_type={file_type!r}) is not supported: nbtrack stores images "
                "as PNG; save other formats to a file and wandb.save it"
            )
        self.caption = caption
        self.png = _png(_pil_image(data_or_path, mode, normalize), caption)

    def __repr__(self) -> str:
        return f"<wandb.Image {len(self.png)} bytes PNG caption={self.caption!r}>"


def _pil_image(data: Any, mode: str | None, normalize: bool) -> Any:
    pil = optional("PIL.Image", "wandb.Image", "wandb")
    if isinstance(data, Image):
        return pil.open(io.BytesIO(data.png))
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"wandb.Image: no image file at {str(path)!r}")
        with pil.open(path) as image:
            image.load()
            return image.convert(mode) if mode else image.copy()
    module = type(data).__module__
    if module.startswith("PIL"):
        return data.convert(mode) if mode else data
    if module.startswith("matplotlib") or _is_pyplot(data):
        figure = data.gcf() if _is_pyplot(data) else data
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        buffer.seek(0)
        return pil.open(buffer)
    if hasattr(data, "detach"):  # a torch tensor
        data = data.detach().cpu().numpy()
    return pil.fromarray(_uint8(data, normalize), mode=mode)


def _is_pyplot(data: Any) -> bool:
    return getattr(data, "__name__", "") == "matplotlib.pyplot"


def _uint8(data: Any, normalize: bool) -> Any:
    """An image array as uint8 H x W (x C), scaled as W&B scales it."""
    import numpy as np

    array = np.asarray(data)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)  # channels first, as torch has them
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(
            f"wandb.Image takes a 2-D (H x W) or 3-D (H x W x C) array, got shape {array.shape}"
        )
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "fiub":
        raise TypeError(f"wandb.Image takes a numeric array, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if normalize:
        if array.min() < 0:
            array = (array - array.min()) / max(float(np.ptp(array)), 1e-12)
        if array.max() <= 1.0:
            array = array * 255
    return np.clip(array, 0, 255).astype(np.uint8)


def _png(image: Any, caption: str | None) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if caption is not None:
        info.add_text("caption", str(caption))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


class Table:
    """A table to log: ``columns`` and ``data`` (rows), or a pandas ``dataframe``.

    ``add_data(*row)``, ``add_column(name, values)``, ``get_column(name)`` and
    ``get_dataframe()`` work as in W&B. Cells hold plain values (numbers, text, None); images
    in cells are not supported.
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Sequence[Sequence[Any]] | None = None,
        rows: Sequence[Sequence[Any]] | None = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: bool = True,
        allow_mixed_types: bool = False,
        log_mode: str | None = None,
    ) -> None:
        if dataframe is not None:
            self.columns = [str(c) for c in dataframe.columns]
            self.data = [list(row) for row in dataframe.itertuples(index=False, name=None)]
            self._frame = dataframe
            return
        self._frame = None
        self.data = [list(row) for row in (data if data is not None else rows or [])]
        width = len(self.data[0]) if self.data else 0
        self.columns = list(columns) if columns is not None else [
            f"col{i}" for i in range(width)
        ]  # fmt: skip
        for row in self.data:
            self._check_row(row)

    def _check_row(self, row: Sequence[Any]) -> None:
        if len(row) != len(self.columns):
            raise ValueError(
                f"wandb.Table row {list(row)!r:.80} has {len(row)} values for "
                f"{len(self.columns)} columns {self.columns}"
            )
        for value in row:
            if isinstance(value, (Image, Table)):
                raise NotSupportedError(
                    "wandb.Table cells holding images or tables are not supported by "
                    "nbtrack.wandb: log the images separately (wandb.log({'examples': "
                    "[wandb.Image(x) for x in batch]})) and keep their names in the table"
                )

    def add_data(self, *data: Any) -> None:
        self._check_row(data)
        self.data.append(list(data))
        self._frame = None

    def add_column(self, name: str, data: Sequence[Any], optional: bool = False) -> None:
        if self.data and len(data) != len(self.data):
            raise ValueError(f"column {name!r} has {len(data)} values for {len(self.data)} rows")
        if not self.data:
            self.data = [[] for _ in data]
        self.columns.append(name)
        for row, value in zip(self.data, data, strict=True):
            row.append(value)
        self._frame = None

    def get_column(self, name: str, convert_to: str | None = None) -> list[Any]:
        index = self.columns.index(name)
        values = [row[index] for row in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.array(values)  # type: ignore[return-value]
        return values

    def get_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    def encoded(self) -> tuple[bytes, str]:
        """The table as Parquet (``"parquet"``), or as CSV (``"csv"``) when Parquet cannot
        hold its columns (mixed types)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if self._frame is not None:
                table = pa.Table.from_pandas(self._frame, preserve_index=False)
            else:
                table = pa.table({
                    name: [row[i] for row in self.data] for i, name in enumerate(self.columns)
                })  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return self._csv(), "csv"
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue(), "parquet"

    def _csv(self) -> bytes:
        import csv

        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(self.columns)
        writer.writerows(self.data)
        return text.getvalue().encode()

    def __repr__(self) -> str:
        return f"<wandb.Table {len(self.data)} rows x {len(self.columns)} columns>"
