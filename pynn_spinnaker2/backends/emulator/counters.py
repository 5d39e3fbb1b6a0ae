"""Work counters: what the cores did, per core, for the cost model and the run summary.

The step loop only keeps the arrays of spikes it sent (:class:`WorkCounter` holds them);
after each block of steps :meth:`WorkCounter.fold` counts them in bulk: packets sent,
synaptic events (the fan-out of each packet) and multiply-accumulates (synaptic events of
graded packets), per core and step into an
:class:`~pynn_spinnaker2.backends.raw.ActivityRecorder`, and per neuron into totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...image.machine_image import MachineImage
from ..raw import ActivityRecorder
from .kernels import NEURON_KERNELS
from .layout import Layout, is_source_kernel


@dataclass
class Counters:
    """Work done since the last reset, per core."""

    neuron_updates: np.ndarray
    packets_sent: np.ndarray
    synaptic_events: np.ndarray
    steps: int = 0
    #: Synaptic events of graded packets (weight x payload, a multiply-accumulate), per core.
    macs: np.ndarray | None = None


@dataclass
class Sent:
    """The packets of the steps folded at once: ``neurons`` (global), their ``steps``, the
    count per step that sent any (``sizes``), and the payloads of graded steps by position
    among those (plain spikes carry 1)."""

    neurons: np.ndarray
    steps: np.ndarray
    sizes: list[int]
    values: dict[int, np.ndarray]


class WorkCounter:
    """Counts the work of the cores of ``image`` laid out as ``layout``.

    Parameters
    ----------
    image, layout
        The cores and their neuron numbering.
    fan_out
        (source neuron, target core, synapses) per synaptic row, in neuron order.
    """

    def __init__(self, image: MachineImage, layout: Layout,
                 fan_out: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        import scipy.sparse as sp

        n_cores = len(image.cores)
        self.n_cores, self.n_neurons, self.core_of = n_cores, layout.n_neurons, layout.core_of
        neuron, core, count = fan_out
        indptr = np.concatenate(([0], np.cumsum(np.bincount(neuron,
                                                            minlength=layout.n_neurons))))
        # Per source neuron, its synapses on each target core (a sparse matrix).
        self.fan_out = sp.csr_matrix((count, core, indptr), shape=(layout.n_neurons, n_cores))
        self.rows = (indptr, core, count)  # the same, for :func:`_rows_of`
        #: The compiled per-(step, core) sums of synaptic events (``compiled.work``),
        #: chosen by the emulator per run; None: the NumPy fold.
        self.synaptic_work = None
        # Which neurons send graded packets (each of their synaptic events is a MAC).
        self.graded = np.zeros(layout.n_neurons, bool)
        for g in layout.groups:
            if g.kernel == "graded_source_array" or getattr(
                    NEURON_KERNELS.get(g.kernel), "graded", False):
                self.graded[g.lo:g.hi] = True
        self.stepped = np.array([0 if is_source_kernel(c.kernel) else c.n_neurons
                                 for c in image.cores], np.int64)
        # The counts start at :meth:`reset` or :meth:`continue_from`, not here: an activity
        # recorder touches megabytes, and a load is always followed by one of the two.

    def reset(self) -> None:
        """Nothing sent, counted or run."""
        self.spike_count = np.zeros(self.n_neurons, np.int64)
        #: What the step loop appends to: each sending step's spikes, its step, and the
        #: payloads of graded steps by position in ``sent``.
        self.sent: list[np.ndarray] = []
        self.sent_steps: list[int] = []
        self.sent_values: dict[int, np.ndarray] = {}
        self.steps_run = 0
        self.counted = 0  # steps whose work is in the activity recorder
        self.activity = ActivityRecorder(self.n_cores)

    def continue_from(self, old: WorkCounter) -> None:
        """Take over the counts of ``old`` (the same cores before a reload): the run goes
        on, with this image's fan-out."""
        self.spike_count, self.steps_run, self.counted = (old.spike_count, old.steps_run,
                                                          old.counted)
        self.sent, self.sent_steps, self.sent_values = old.sent, old.sent_steps, old.sent_values
        self.activity = old.activity

    def fold(self, step: int) -> Sent | None:
        """Count the packets sent up to ``step`` (the last step run) into the per-neuron
        totals and the per-step, per-core activity; hand back what was sent (None when
        nothing was) for the spike recording."""
        n_steps = step - self.counted
        if n_steps <= 0:
            return None
        events: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        out = None
        if self.sent:
            sent = np.concatenate(self.sent)
            sizes = [s.size for s in self.sent]
            at = np.repeat(np.asarray(self.sent_steps, np.int64) - self.counted - 1, sizes)
            out = Sent(sent, at + self.counted + 1, sizes, self.sent_values)
            self.spike_count += np.bincount(sent, minlength=self.n_neurons)
            events["packets_sent"] = (at, self.core_of[sent], np.ones(sent.size, np.int64))
            summed = (None if self.synaptic_work is None else
                      self.synaptic_work(at, sent, self.rows, self.graded, n_steps,
                                         self.n_cores))
            if summed is not None:
                events.update(summed)
            else:
                row, col, data = _rows_of(*self.rows, sent)  # the synapses of packet row
                events["synaptic_events"] = (at[row], col, data)
                graded = self.graded[sent][row]
                if graded.any():
                    events["macs"] = (at[row][graded], col[graded], data[graded])
            # New lists, not cleared ones: the step loop binds them per block.
            self.sent, self.sent_steps, self.sent_values = [], [], {}
        self.activity.record_steps(n_steps, events)
        self.counted = step
        return out

    def counters(self) -> Counters:
        """Work done since the last reset, per core (after :meth:`fold`)."""
        per_core = self.fan_out.T @ self.spike_count  # synaptic events per target core
        packets = np.bincount(self.core_of, weights=self.spike_count, minlength=self.n_cores)
        macs = None
        if self.graded.any():
            macs = self.fan_out.T @ np.where(self.graded, self.spike_count, 0)
        return Counters(self.stepped * self.steps_run, packets.astype(np.int64),
                        np.asarray(per_core, np.int64), self.steps_run,
                        None if macs is None else np.asarray(macs, np.int64))


def _rows_of(indptr: np.ndarray, col: np.ndarray, data: np.ndarray, rows: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of rows ``rows`` of the CSR matrix (``data``, ``col``, ``indptr``), as
    (position in ``rows``, column, value): scipy's ``matrix[rows].tocoo()`` without its
    fixed cost (a few hundred microseconds, paid after every block of steps)."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    row = np.repeat(np.arange(rows.size), lengths)
    idx = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return row, col[idx], data[idx]
