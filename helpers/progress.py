"""Progress bars that a saved notebook shows finished: `tqdm`, a drop-in for `tqdm.auto.tqdm`.

In a notebook, tqdm's widget stores its *first* state as the output's plain-text fallback
("0%|          | 0/30"), which is what a saved notebook, GitHub and nbconvert show: a run that seems
never to have started. This bar is displayed under a display id, and when it closes that output is
replaced by the bar's final line ("epochs: 100%|██████████| 30/30 [12:03<00:00, 24.1s/it]"), or by
nothing for `leave=False`. In a terminal it is tqdm's text bar, unchanged.
"""
from __future__ import annotations

from tqdm.auto import tqdm as _auto_tqdm

try:  # the widget bar, where IPython and ipywidgets are importable
    from tqdm.notebook import tqdm_notebook as _notebook_tqdm
except ImportError:  # pragma: no cover - tqdm always ships the module; ipywidgets may be missing
    _notebook_tqdm = None

__all__ = ["tqdm", "trange"]

if _notebook_tqdm is not None and issubclass(_auto_tqdm, _notebook_tqdm):

    class tqdm(_auto_tqdm):  # type: ignore[misc,valid-type]
        """`tqdm.auto.tqdm` whose saved output is the finished bar's text (or nothing when `leave=False`)."""

        def __init__(self, *args, **kwargs):
            own_display = kwargs.pop("display", True) and kwargs.get("delay", 0) <= 0
            self._handle = None
            super().__init__(*args, **kwargs, display=False)
            if self.disable or not own_display:
                if not self.disable and not own_display:
                    self.displayed = False
                return
            from IPython.display import display
            self._handle = display(self.container, display_id=True)
            self.displayed = True

        def close(self):
            if self.disable:
                return
            final = self.__str__()
            leave = self.leave
            super().close()
            handle, self._handle = self._handle, None
            if handle is not None:
                handle.update({"text/plain": final if leave else ""}, raw=True)
                self.container.close()  # the widget is gone from the page; keep it out of the saved state too

else:  # a terminal, or a kernel without ipywidgets: tqdm.auto's text bar already ends in its final state
    tqdm = _auto_tqdm  # type: ignore[misc]


def trange(*args, **kwargs):
    """`tqdm(range(*args), **kwargs)`."""
    return tqdm(range(*args), **kwargs)
