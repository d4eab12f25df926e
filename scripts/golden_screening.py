"""Golden output of the screening pipeline: every result and worksheet of the bench corpora, as JSON lines.

    python scripts/golden_screening.py OUT.jsonl     # prints the sha256 of all of it

Diff two runs' files (or compare the sha printed) to prove an optimisation changed no output byte.
Covers: evaluate() results (verdict, findings, worksheet), the stored rows read back through the store
(iter_latest_results with worksheets as model and as json), for realistic and regulated mixes, 10 and 50 items.
"""
import hashlib
import json
import sys
import tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'benchmarks'))
import bench_screen as b
from fba_jp.models import Declaration
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store

out = open(sys.argv[1], 'w')
h = hashlib.sha256()
def emit(obj):
    line = json.dumps(obj, sort_keys=True, default=str)
    h.update(line.encode()); out.write(line + '\n')
for mix in ('realistic', 'regulated'):
    for items, n in ((10, 150), (50, 40), (1, 30)):
        d = Path(tempfile.mkdtemp())
        store = Store(d / 'g.db')
        s = Screener(get_plugins(load_entrypoints=False), store=store)
        for data in b.declarations(n, items, 7, mix):
            decl = Declaration.model_validate(data)
            res, canon = s.evaluate(decl, 'golden')
            emit({'canon': canon, 'result': json.loads(res.model_dump_json(exclude={'screened_at', 'screening_id'}))})
            store.record_screenings([(res, decl, canon)], s.plugin_names)
        for res, sheet in store.iter_latest_results(worksheets='json'):
            emit({'stored': json.loads(res.model_dump_json(exclude={'screened_at', 'screening_id', 'valuation'})), 'sheet': sheet})
        for res, _ in store.iter_latest_results():
            emit({'model': json.loads(res.model_dump_json(exclude={'screened_at', 'screening_id'}))})
print(h.hexdigest())
