# Reference values for test/precision-bounds.test.ts, computed with scipy (Debian's python3-scipy 1.10):
#   /usr/bin/python3 test/reference/make_precision_bounds.py > test/reference/precision-bounds.json
# - betainc: the regularized incomplete beta I_x(a, b) (scipy.special.betainc);
# - clopper_pearson: the one-sided lower bound beta.ppf(1 - confidence, k, n - k + 1) (0 when k = 0)
#   and the two-sided interval beta.ppf(alpha/2, k, n - k + 1), beta.ppf(1 - alpha/2, k + 1, n - k)
#   (0 when k = 0, 1 when k = n), alpha = 1 - confidence;
# - wilson: the Wilson score interval written out from its formula (statsmodels is not installed),
#   z = norm.ppf(1 - alpha/2).
import json
import math

from scipy.special import betainc
from scipy.stats import beta, norm

cases_betainc = []
for a, b in [(0.5, 0.5), (1, 1), (2, 3), (5, 1), (1, 5), (10, 10), (30, 2), (2, 30), (100, 5), (500, 20), (0.1, 4), (1000, 1000)]:
    for x in [0.001, 0.05, 0.3, 0.5, 0.7, 0.95, 0.999]:
        cases_betainc.append({"x": x, "a": a, "b": b, "value": float(betainc(a, b, x))})

cases_cp = []
for n in [1, 2, 5, 10, 20, 50, 100, 200, 1000, 5000]:
    for k in sorted({0, 1, n // 2, int(n * 0.9), int(n * 0.97), n - 1, n}):
        if k < 0 or k > n:
            continue
        for confidence in [0.9, 0.95, 0.99]:
            alpha = 1 - confidence
            lower = 0.0 if k == 0 else float(beta.ppf(alpha, k, n - k + 1))
            low2 = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
            high2 = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
            cases_cp.append({"k": k, "n": n, "confidence": confidence, "lower": lower, "low": low2, "high": high2})

cases_wilson = []
for n in [1, 5, 10, 20, 37, 100, 1000, 10000]:
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        if k < 0 or k > n:
            continue
        for confidence in [0.9, 0.95, 0.99]:
            z = float(norm.ppf(1 - (1 - confidence) / 2))
            p = k / n
            denominator = 1 + z * z / n
            center = (p + z * z / (2 * n)) / denominator
            half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            cases_wilson.append({"k": k, "n": n, "confidence": confidence, "z": z, "low": center - half, "high": center + half})

print(json.dumps({"betainc": cases_betainc, "clopper_pearson": cases_cp, "wilson": cases_wilson}, indent=1))
