"""Where a screening's CPU goes, per phase (no profiler): validate, valuate, checks, canonical JSON, record.

    python benchmarks/screen_phases.py 1000 10     # shipments, items per shipment (realistic mix)

A working aid for optimising the pipeline, not a figure against a floor (that is bench_screen.py): it
screens bench_screen.py's declarations after 50 warm-up ones and prints the process CPU of each phase per
shipment. ``evaluate`` includes valuate, checks and canonical; ``record`` is one transaction a screening.
Process CPU moves by ±20 % on a shared machine: compare two trees in alternate runs.
"""
import sys
import tempfile
import time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import bench_screen as b
from fba_jp.models import Declaration
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store
import fba_jp.runner as runner

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ITEMS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
d = Path(tempfile.mkdtemp())
store = Store(d / 'p.db')
screener = Screener(get_plugins(load_entrypoints=False), store=store)
datas = list(b.declarations(N, ITEMS, 1, 'realistic'))
# warm
for data in list(b.declarations(50, ITEMS, 2, 'realistic')):
    screener.screen(Declaration.model_validate(data), 'bench')
t = {}
def clock(name, f, *a, **k):
    s = time.process_time(); r = f(*a, **k); t[name] = t.get(name, 0) + time.process_time() - s; return r
orig_valuate = Screener._valuate
def timed_valuate(self, *a):
    return clock('valuate', orig_valuate, self, *a)
Screener._valuate = timed_valuate
orig_run_check = runner.run_check
def timed_check(*a):
    return clock('checks', orig_run_check, *a)
runner.run_check = timed_check
from fba_jp import models
orig_canon = models.Declaration.canonical_json
models.Declaration.canonical_json = lambda self: clock('canonical', orig_canon, self)
start = time.process_time()
for data in datas:
    decl = clock('validate', Declaration.model_validate, data)
    res, canon = clock('evaluate', screener.evaluate, decl, 'bench')
    clock('record', store.record_screenings, [(res, decl, canon)], screener.plugin_names)
total = time.process_time() - start
print(f"total {total/N*1000:.3f} ms/shipment")
for k, v in t.items():
    print(f"{k:10} {v/N*1000:.3f} ms  {v/total*100:.0f}%")
