"""What the machine did during a run, in machine terms: the input of the cost model.

The emulator records, per PE and per step, only what it cannot know in advance: packets sent
(one per spike or event), synaptic events processed (synaptic words applied) and MACs (graded
events, whose payload multiplies the weight). Everything else follows from the machine image:

- neuron updates: every loaded neuron is updated once per step;
- packets received per PE, rows fetched per PE, router lookups per chip and chip-to-chip link
  hops: from the routes the router tables give each core's key block (walked once, here,
  through the same :class:`~pynn_spinnaker2.backends.emulator.router.Router` the emulator
  delivers with) times the packets each core sent;
- SRAM and DRAM bytes: from the counts and the region formats of the image.

Memory for long runs. Steps are kept in blocks: one step per block until the recorder's fixed
budget of blocks is full, then neighbouring blocks merge (2, 4, 8... steps per block). Each
block keeps, per PE, the sum of every counter and its largest single-step value. Totals,
energy and mean figures stay exact at any length; per-step figures (cycles of the busiest
step, timer overruns) are exact while blocks hold one step, and afterwards come as a lower
bound (block mean) and an upper bound (sum of the per-counter step maxima). With the default
budget of 2**20 numbers per kind a 150-PE run keeps single steps up to 2,330 steps, and a
10**6-step run costs about 17 MB whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends.emulator.router import Router
from ..backends.raw import ActivityRecorder
from ..image.machine_image import ROW_DTYPE, SYNAPSE_DTYPE, MachineImage

#: Per-PE counters of an :class:`Activity` (recorded or derived).
PER_CORE = ("neuron_updates", "packets_sent", "packets_received", "rows_fetched",
            "synaptic_events", "macs")
#: Per-chip counters of an :class:`Activity`.
PER_CHIP = ("router_lookups", "link_hops")

WORD = 4


@dataclass(frozen=True)
class Routes:
    """Where each core's packets go, from the compiled router tables.

    Parameters
    ----------
    chips
        Chip coordinates: first those holding cores (sorted), then chips that packets only
        pass through.
    deliver_src, deliver_dst
        One entry per (source core, destination core) delivery of a packet.
    deliver_row
        Whether the destination's master population table has rows for that source (the
        packet then fetches a synaptic row; otherwise the core drops it).
    visit_src, visit_chip
        One entry per (source core, chip index) whose router a packet of the source passes.
    """

    chips: tuple[tuple[int, int], ...]
    deliver_src: np.ndarray
    deliver_dst: np.ndarray
    deliver_row: np.ndarray
    visit_src: np.ndarray
    visit_chip: np.ndarray


def routes(image: MachineImage) -> Routes:
    """Walk every core's key block through the router tables once."""
    router = Router(image)
    where = {(c.chip, c.pe): i for i, c in enumerate(image.cores)}
    chips = sorted({c.chip for c in image.cores})
    chip_index = {chip: i for i, chip in enumerate(chips)}
    d_src, d_dst, d_row, v_src, v_chip = [], [], [], [], []
    for s, core in enumerate(image.cores):
        if core.n_neurons == 0:
            continue
        reached, visited = router.walk(core.key, core.chip)
        for chip_pe in reached:
            d = where.get(chip_pe)
            if d is None:
                continue  # the emulator refuses such an image at load
            mpt = image.cores[d].sram["master_pop_table"]
            d_src.append(s)
            d_dst.append(d)
            d_row.append(bool(np.any((core.key & mpt["mask"]) == mpt["key"])))
        for chip in visited:
            if chip not in chip_index:
                chip_index[chip] = len(chips)
                chips.append(chip)
            v_src.append(s)
            v_chip.append(chip_index[chip])
    return Routes(tuple(chips), np.asarray(d_src, np.int64), np.asarray(d_dst, np.int64),
                  np.asarray(d_row, bool), np.asarray(v_src, np.int64),
                  np.asarray(v_chip, np.int64))


@dataclass(frozen=True)
class Activity:
    """What every PE and every router did during a run.

    Parameters
    ----------
    timestep_ms
        Simulated milliseconds per step.
    block_lengths
        Steps in each block (all 1 when every step is kept).
    sums, peaks
        Counter name (:data:`PER_CORE`) -> (blocks, cores): the counter summed over each
        block, and its largest single-step value in the block.
    chip_sums
        Counter name (:data:`PER_CHIP`) -> (blocks, chips) sums.
    chips
        Chip coordinates; ``core_chip`` indexes into them (chips only passed through by
        packets come after those holding cores).
    core_chip, core_pe, kernels, n_neurons
        Per core: chip index, PE number, kernel name, neurons.
    param_words, state_words, n_receptors, mpt_entries
        Per core: 32-bit words of one neuron's parameters and state, input receptors, master
        population table entries (from the image's region formats).
    rows_in_dram
        Per core: whether its synaptic rows are fetched from DRAM (else they sit in SRAM).
    pes_per_chip, pes_per_qpe
        Machine geometry (for the heat map).
    """

    timestep_ms: float
    block_lengths: np.ndarray
    sums: dict[str, np.ndarray]
    peaks: dict[str, np.ndarray]
    chip_sums: dict[str, np.ndarray]
    chips: tuple[tuple[int, int], ...]
    core_chip: np.ndarray
    core_pe: np.ndarray
    kernels: tuple[str, ...]
    n_neurons: np.ndarray
    param_words: np.ndarray
    state_words: np.ndarray
    n_receptors: np.ndarray
    mpt_entries: np.ndarray
    rows_in_dram: np.ndarray
    pes_per_chip: int = 152
    pes_per_qpe: int = 4

    @property
    def n_steps(self) -> int:
        """Steps recorded."""
        return int(self.block_lengths.sum())

    @property
    def n_cores(self) -> int:
        """Loaded PEs."""
        return int(self.core_chip.size)

    @property
    def exact(self) -> bool:
        """True when every block holds one step (per-step figures are exact)."""
        return bool(np.all(self.block_lengths <= 1))

    def total(self, name: str) -> np.ndarray:
        """Per-core (or per-chip) total of a counter over the run."""
        table = self.sums if name in self.sums else self.chip_sums
        return table[name].sum(axis=0)

    def sram_bytes(self, counts: dict[str, np.ndarray]) -> np.ndarray:
        """SRAM bytes moved for the given counts (sums or peaks), per core.

        Neuron update: parameters and state read, state written, each receptor's input read
        and cleared. Synaptic event: the synaptic word read (and written first by the DMA when
        rows come from DRAM), the input ring read and written. Received packet: master
        population table search (key and mask per level) and the row index entry. Sent
        packet: one word to the NoC.
        """
        syn = SYNAPSE_DTYPE.itemsize
        neuron = WORD * (self.param_words + 2 * self.state_words + 2 * self.n_receptors)
        event = np.where(self.rows_in_dram, 2 * syn, syn) + 2 * WORD
        packet = 2 * WORD * search_levels(self.mpt_entries) + ROW_DTYPE.itemsize
        return (counts["neuron_updates"] * neuron + counts["synaptic_events"] * event
                + counts["packets_received"] * packet + counts["packets_sent"] * WORD)

    def dram_bytes(self, counts: dict[str, np.ndarray]) -> np.ndarray:
        """DRAM bytes read for the given counts, per core: for DRAM-resident rows, the row
        index entry and every synaptic word of each fetched row."""
        per_row = ROW_DTYPE.itemsize * counts["rows_fetched"]
        per_word = SYNAPSE_DTYPE.itemsize * counts["synaptic_events"]
        return np.where(self.rows_in_dram, per_row + per_word, 0)

    def dma_bytes(self, counts: dict[str, np.ndarray]) -> np.ndarray:
        """Bytes the DMA engine writes into SRAM (rows copied from DRAM), per core."""
        return self.dram_bytes(counts)


def search_levels(entries: np.ndarray) -> np.ndarray:
    """Steps of a binary search over ``entries`` master population table entries."""
    return np.ceil(np.log2(np.asarray(entries, float) + 1.0)).astype(np.int64)


def build_activity(image: MachineImage, recorder: ActivityRecorder) -> Activity:
    """The :class:`Activity` of the run the recorder watched, on ``image``."""
    lengths, recorded_sums, recorded_peaks = recorder.blocks()
    r = routes(image)
    n_cores, n_chips = len(image.cores), len(r.chips)
    chip_index = {chip: i for i, chip in enumerate(r.chips)}
    core_chip = np.array([chip_index[c.chip] for c in image.cores], np.int64)
    n_neurons = np.array([c.n_neurons for c in image.cores], np.int64)
    sums, peaks = dict(recorded_sums), dict(recorded_peaks)
    sums["neuron_updates"] = np.outer(lengths, n_neurons)
    peaks["neuron_updates"] = np.outer(lengths > 0, n_neurons)
    sent_sum, sent_peak = recorded_sums["packets_sent"], recorded_peaks["packets_sent"]
    for name, mask in (("packets_received", np.ones(r.deliver_src.size, bool)),
                       ("rows_fetched", r.deliver_row)):
        src, dst = r.deliver_src[mask], r.deliver_dst[mask]
        sums[name] = _spread(sent_sum, src, dst, n_cores)
        peaks[name] = _spread(sent_peak, src, dst, n_cores)
    # A multicast tree over k chips uses k - 1 chip-to-chip links; counted at the source.
    hops = np.bincount(r.visit_src, minlength=n_cores) - 1
    sending = hops >= 0
    chip_sums = {
        "router_lookups": _spread(sent_sum, r.visit_src, r.visit_chip, n_chips),
        "link_hops": _spread(sent_sum * np.maximum(hops, 0), np.flatnonzero(sending),
                             core_chip[sending], n_chips),
    }
    return Activity(
        timestep_ms=float(image.timestep), block_lengths=lengths, sums=sums, peaks=peaks,
        chip_sums=chip_sums, chips=r.chips, core_chip=core_chip,
        core_pe=np.array([c.pe for c in image.cores], np.int64),
        kernels=tuple(c.kernel for c in image.cores), n_neurons=n_neurons,
        param_words=np.array([_words(c.sram.get("neuron_params")) for c in image.cores]),
        state_words=np.array([_words(c.sram.get("neuron_state")) for c in image.cores]),
        n_receptors=np.array([c.sram["input_ring"].shape[1] if "input_ring" in c.sram else 0
                              for c in image.cores], np.int64),
        mpt_entries=np.array([c.sram["master_pop_table"].size for c in image.cores], np.int64),
        rows_in_dram=np.array(["synapses" in c.dram for c in image.cores], bool),
        pes_per_chip=image.machine.pes_per_chip, pes_per_qpe=image.machine.pes_per_qpe)


def _words(region: np.ndarray | None) -> int:
    """32-bit words of one record of a structured region."""
    if region is None or region.dtype.itemsize == 0:
        return 0
    return -(-region.dtype.itemsize // WORD)


def _spread(per_source: np.ndarray, src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """(blocks, sources) counts -> (blocks, n): each pair (src, dst) adds the source's count
    to the destination."""
    out = np.zeros((per_source.shape[0], n), np.int64)
    for b in range(per_source.shape[0]):
        out[b] = np.bincount(dst, weights=per_source[b, src], minlength=n)[:n].astype(np.int64)
    return out
