"""The KS2 performance tables: the column of each KS2 measure for each pupil group."""

from __future__ import annotations

from analytics.imports.dfe.columns import ColumnSpec

# Subgroup: (KS2 column suffix, KS2 cohort column)
_KS2_GROUPS = {
    "all": ("", "TELIG"),
    "boys": ("_B", "BELIG"),
    "girls": ("_G", "GELIG"),
    "disadvantaged": ("_FSM6CLA1A", "TFSM6CLA1A"),
    "not_disadvantaged": ("_NOTFSM6CLA1A", "TNOTFSM6CLA1A"),
    "eal": ("_EAL", "TEALGRP2"),
    "low_prior": ("_L", "TKS1GROUP_L"),
    "middle_prior": ("_M", "TKS1GROUP_M"),
    "high_prior": ("_H", "TKS1GROUP_H"),
    "non_mobile": ("_MOBN", "TMOBN"),
}


_KS2_PERCENTS = {
    "ks2_rwm_exp": "PTRWM_EXP",
    "ks2_rwm_high": "PTRWM_HIGH",
    "ks2_read_exp": "PTREAD_EXP",
    "ks2_writ_exp": "PTWRITTA_EXP",
    "ks2_mat_exp": "PTMAT_EXP",
    "ks2_gps_exp": "PTGPS_EXP",
    "ks2_read_high": "PTREAD_HIGH",
    "ks2_writ_high": "PTWRITTA_HIGH",
    "ks2_mat_high": "PTMAT_HIGH",
    "ks2_gps_high": "PTGPS_HIGH",
    "ks2_read_scaled": "READ_AVERAGE",
    "ks2_mat_scaled": "MAT_AVERAGE",
    "ks2_gps_scaled": "GPS_AVERAGE",
}


# Each subject's progress score is in <SUBJECT>PROG, with its interval in _LOWER and _UPPER beside it.
_KS2_PROGRESS = {
    f"ks2_{subject}_progress": f"{column}PROG"
    for subject, column in (("read", "READ"), ("writ", "WRIT"), ("mat", "MAT"))
}


def ks2_specs() -> list[ColumnSpec]:
    specs = []
    for subgroup, (suffix, cohort) in _KS2_GROUPS.items():
        for code, base in _KS2_PERCENTS.items():
            specs.append(ColumnSpec(code, subgroup, base + suffix, cohort=(cohort,)))
        for code, base in _KS2_PROGRESS.items():
            specs.append(
                ColumnSpec(code, subgroup, base + suffix, f"{base}{suffix}_LOWER", f"{base}{suffix}_UPPER", (cohort,))
            )
    specs.append(ColumnSpec("ks2_rwm_exp_dis_gap", "all", "DIFFN_RWM_EXP", cohort=("TFSM6CLA1A",)))
    specs.append(ColumnSpec("ks2_rwm_high_dis_gap", "all", "DIFFN_RWM_HIGH", cohort=("TFSM6CLA1A",)))
    return specs
