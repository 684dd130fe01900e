"""fastconv's benchmark suite: fastconv against TensorFlow (and PyTorch where installed).

- ``suite``:   the one definition of the layer suite (shapes, FLOP and bytes per layer)
- ``runners``: how each library runs a layer (fastconv, TF tf.function, TF eager, torch)
- ``timing``:  interleaved rounds, median per library
- ``report``:  the table, the JSON file and the bar chart
- ``cli``:     ``fastconv bench``
- ``busy``:    spinner processes that load the machine on purpose (``fastconv bench --busy N``)
- ``under_load``, ``load_table``: fastconv at 1 and its default thread count next to the peers,
               idle and under such load (benchmarks/threads_under_load.py)

Importing this package is cheap on purpose: TensorFlow, PyTorch and matplotlib are imported
only when a benchmark actually runs, so ``import fastconv`` and ``fastconv info`` stay fast.
"""
