#!/usr/bin/env python3
"""Regenerate tests/fuzz/corpus/attestchain/ (the seeds of fuzz_attestchain).

Run from the repository root after tests/fuzz/gen_attestchain_pool.sh; the
indexes below are positions in that pool (see the header it writes).
"""
import os
import struct
import subprocess

D = 'tests/fuzz/corpus/attestchain'
(FORGED_ROOT, FORGED_F9, FORGED_STMT, FAKE9A, FAKE9C, GEN_ROOT, GEN_F9,
 GEN_STMT, PIVGO_F9, PIVGO_STMT, OVH_F9, OVH_STMT, EE, FAKE_EE, R1, R1_F9,
 R1_STMT, U2F_F9, U2F_STMT, YK_OLD, YK_ROOT1, YK_INTER_B1, YK_PIV_B1,
 YK_U2F) = range(24)


def hdr(mode, si=0, fi=0, mask=0, how=0, chain=0, mut=0, off=0, x=0):
    return (bytes([mode, si, fi]) + struct.pack('<I', mask) + bytes([how]) +
            struct.pack('<I', chain) + bytes([mut, off >> 8, off & 0xff, x]))


def bits(*ix):
    return sum(1 << i for i in ix)


def der(path, kind='x509'):
    return subprocess.run(['openssl', kind, '-in', path, '-outform', 'der'],
                          capture_output=True, check=True).stdout


def raw(stmt, f9):
    s, f = der(stmt), der(f9)
    return hdr(2, mask=bits(FORGED_ROOT)) + struct.pack('>H', len(s)) + s + f


seeds = {
    'genuine-forgedmfr': hdr(0, FORGED_STMT, FORGED_F9, bits(FORGED_ROOT)),
    'attack-stmt-as-f9': hdr(0, FAKE9A, FORGED_STMT, bits(FORGED_ROOT)),
    'attack-9c': hdr(0, FAKE9C, FORGED_STMT, bits(FORGED_ROOT)),
    'attack-f9-in-store': hdr(0, FAKE9A, FORGED_STMT,
                              bits(FORGED_ROOT, FORGED_F9), 0),
    'attack-f9-as-anchor': hdr(0, FAKE9A, FORGED_STMT,
                               bits(FORGED_ROOT, FORGED_F9), 1),
    'attack-f9-as-inter': hdr(0, FAKE9A, FORGED_STMT,
                              bits(FORGED_ROOT, FORGED_F9), 2),
    'attack-stmt-as-inter': hdr(0, FAKE9A, FORGED_STMT,
                                bits(FORGED_ROOT, FORGED_STMT), 2),
    'attack-chain-f9': hdr(0, FAKE9A, FORGED_STMT, bits(FORGED_ROOT), 0,
                           bits(FORGED_F9)),
    'attack-ee-as-f9': hdr(0, FAKE_EE, EE, bits(FORGED_ROOT)),
    'attack-ee-in-store': hdr(0, FAKE_EE, EE, bits(FORGED_ROOT, EE)),
    'vendor-ca-only': hdr(0, R1_STMT, R1_F9, bits(R1)),
    'pivgo': hdr(0, PIVGO_STMT, PIVGO_F9, bits(YK_OLD)),
    'ovh574': hdr(0, OVH_STMT, OVH_F9, bits(YK_ROOT1, YK_INTER_B1, YK_PIV_B1)),
    'ovh574-no-inter': hdr(0, OVH_STMT, OVH_F9, bits(YK_ROOT1), 0,
                           bits(YK_INTER_B1, YK_PIV_B1)),
    'u2f-held-back': hdr(0, U2F_STMT, U2F_F9, bits(YK_U2F)),
    'u2f-as-anchor': hdr(0, U2F_STMT, U2F_F9, bits(YK_U2F), 1),
    'gen': hdr(0, GEN_STMT, GEN_F9, bits(GEN_ROOT)),
    'gen-mut-stmt': hdr(0, GEN_STMT, GEN_F9, bits(GEN_ROOT), 0, 0, 1, 40, 1),
    'gen-mut-f9': hdr(0, GEN_STMT, GEN_F9, bits(GEN_ROOT), 0, 0, 2, 300,
                      0x80),
    'stmt-position-ca': hdr(0, R1_F9, R1, bits(R1), 2),
    'raw-attack': raw('tests/data/forged/forged-9a.stmt.pem',
                      'tests/data/forged/stmt-9a.pem'),
    'raw-genuine': raw('tests/data/forged/stmt-9a.pem',
                       'tests/data/forged/f9.pem'),
}
for c in ['forged', 'forged-legacy', 'forged-9c', 'genuine', 'forged-ee']:
    seeds['csr-' + c] = (hdr(1, mask=bits(FORGED_ROOT)) +
                         der('tests/data/forged/%s.csr.pem' % c, 'req'))
for name, data in seeds.items():
    with open(os.path.join(D, name), 'wb') as f:
        f.write(data)
print('wrote %d seeds to %s' % (len(seeds), D))
