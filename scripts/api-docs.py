#!/usr/bin/env python3
# Regenerates docs/api.md from the public types of src/SliceLearning and their XML summaries.
# Run after `dotnet build src/SliceLearning`: python3 scripts/api-docs.py
import re, sys, xml.etree.ElementTree as ET, subprocess, collections
import os
root_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
xmlp = os.path.join(root_dir, 'src/SliceLearning/bin/Debug/net10.0/SliceLearning.xml')
public = set(re.findall(r'^\s*public (?:sealed |static |abstract |readonly |partial )*(?:class|record struct|record|enum|interface|struct) ([A-Za-z0-9_]+)', ''.join(open(os.path.join(d, f)).read() for d, _, fs in os.walk(os.path.join(root_dir, 'src/SliceLearning')) if '/bin' not in d and '/obj' not in d for f in fs if f.endswith('.cs')), re.M))
root = ET.parse(xmlp).getroot()
groups = collections.defaultdict(list)
def text(el):
    s = ''.join(el.itertext()) if el is not None else ''
    # keep cref names
    return ' '.join(s.split())
for m in root.iter('member'):
    n = m.get('name')
    if not n.startswith('T:'): continue
    full = n[2:]
    ns, _, name = full.rpartition('.')
    base = name.split('`')[0]
    if base not in public: continue
    if '`' in name:
        k = int(name.split('`')[1])
        tps = [tp.get('name') for tp in m.findall('typeparam')] or ['T'] * k
        disp = f"{base}<{', '.join(tps)}>"
    else:
        disp = base
    summ = m.find('summary')
    # render cref as name
    if summ is not None:
        for c in summ.iter():
            if c.tag in ('see','paramref','typeparamref'):
                ref = c.get('cref') or c.get('name') or c.get('langword') or ''
                ref = ref.split(':')[-1].split('(')[0].split('.')[-1].split('`')[0]
                c.text = ref
    s = text(summ)
    s = s.split('. ')[0].rstrip('.') + '.'
    groups[ns].append((disp, s))
out = ['# Public API', '',
 'Every public type of the `SliceLearning` assembly, by namespace, with its one-line summary (the XML',
 'documentation has the details). A test fails when a public type is missing here; `python3 scripts/api-docs.py`\nregenerates this page after a build.', '']
for ns in sorted(groups):
    out.append(f'## {ns}'); out.append('')
    out.append('| type | what it is |'); out.append('| --- | --- |')
    for d, s in sorted(groups[ns]):
        out.append(f'| `{d}` | {s.replace("|", "/")} |')
    out.append('')
open(os.path.join(root_dir, 'docs/api.md'),'w').write('\n'.join(out))
print(sum(len(v) for v in groups.values()))
