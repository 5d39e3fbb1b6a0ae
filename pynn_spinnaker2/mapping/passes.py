"""Sizes of the host's passes over all synapses, shared by the mapping (connectivity) and the
image builder (synaptic rows); tests shrink them to force every code path on small networks
(read them as ``passes.BLOCK`` at call time so that one change reaches both)."""

#: Above this many (pre pieces x post pieces) cells a projection's piece pairs are counted
#: by sorting instead of in a dense table.
DENSE_PAIRS = 1 << 24
#: Synapses handled per block in passes over all synapses (16 MB of int64 temporaries).
BLOCK = 1 << 21
