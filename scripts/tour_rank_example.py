#!/usr/bin/env python3
# docs/tour.md, "A 3 × 3 example you can check by hand", recomputed in plain Python 3 (no packages; about 30 s):
# the sigsoftmax table, the double-centred log P and its singular values, and the best softmax fit at d = 1.
# tests/TinyGrad.Tests/Docs/RankExampleTests.cs checks the same numbers with the library itself.
import math, random
def logsig(z): return min(z, 0) - math.log1p(math.exp(-abs(z)))
def lse(r): m = max(r); return m + math.log(sum(math.exp(x - m) for x in r))
def norm(w): c = lse(w); return [x - c for x in w]
g, w, b = [-2.0, 0.0, 2.0], [1.0, 0.0, -1.0], [0.0, 0.0, 0.0]
Z = [[g[n] * w[j] + b[j] for j in range(3)] for n in range(3)]
L = [norm([z + logsig(z) for z in row]) for row in Z]          # sigsoftmax, d = 1
print("P    =", [[round(math.exp(x), 4) for x in r] for r in L])
print("logP =", [[round(x, 4) for x in r] for r in L])
C = [[x - sum(r) / 3 for x in r] for r in L]                    # centred per row
print("row-centred logP =", [[round(x, 4) for x in r] for r in C])
cm = [sum(C[i][j] for i in range(3)) / 3 for j in range(3)]
D = [[C[i][j] - cm[j] for j in range(3)] for i in range(3)]     # double-centred
print("double-centred =", [[round(x, 4) for x in r] for r in D])
# singular values: the two directions g and u = (1,0,1) are orthogonal, so check D against them
s2 = (2 + 2 * math.log1p(math.exp(-2)) - 2 * math.log(2)) / 3
print("predicted singular values 6 and", round(s2, 6))
fro = math.sqrt(sum(x * x for r in D for x in r)); print("Frobenius", round(fro, 6), "vs sqrt(36 + s2^2)", round(math.sqrt(36 + s2 * s2), 6))
det2 = D[0][0] * D[1][1] - D[0][1] * D[1][0]; print("a 2x2 minor of D:", det2, "(rank-1 would make every 2x2 minor 0)")
minors = [D[i][k]*D[j][l]-D[i][l]*D[j][k] for i in range(3) for j in range(i+1,3) for k in range(3) for l in range(k+1,3)]
print("largest |2x2 minor|:", max(abs(m) for m in minors))
# best softmax fit at d = 1 (with bias): gradient descent on the mean KL from many starts
P = [[math.exp(x) for x in r] for r in L]
H = -sum(P[n][j] * L[n][j] for n in range(3) for j in range(3)) / 3
best = 1e9
rng = random.Random(1)
for start in range(20):
    gg = [rng.gauss(0, 2) for _ in range(3)]; ww = [rng.gauss(0, 2) for _ in range(3)]; bb = [0.0] * 3
    m = {k: [0.0] * 3 for k in "gwb"}; v = {k: [0.0] * 3 for k in "gwb"}
    for it in range(1, 20001):
        q = [norm([gg[n] * ww[j] + bb[j] for j in range(3)]) for n in range(3)]
        dz = [[(math.exp(q[n][j]) - P[n][j]) / 3 for j in range(3)] for n in range(3)]
        grads = {"g": [sum(dz[n][j] * ww[j] for j in range(3)) for n in range(3)],
                 "w": [sum(dz[n][j] * gg[n] for n in range(3)) for j in range(3)],
                 "b": [sum(dz[n][j] for n in range(3)) for j in range(3)]}
        for k, p in (("g", gg), ("w", ww), ("b", bb)):   # Adam, lr 0.02
            for i in range(3):
                m[k][i] = 0.9 * m[k][i] + 0.1 * grads[k][i]; v[k][i] = 0.999 * v[k][i] + 0.001 * grads[k][i] ** 2
                p[i] -= 0.02 * (m[k][i] / (1 - 0.9 ** it)) / (math.sqrt(v[k][i] / (1 - 0.999 ** it)) + 1e-12)
    ce = -sum(P[n][j] * q[n][j] for n in range(3) for j in range(3)) / 3
    best = min(best, ce - H)
print("best softmax d=1 fit: mean KL =", best)
