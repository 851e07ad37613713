"""The KS4 performance tables: the column of each KS4 measure for each pupil group."""

from __future__ import annotations

from analytics.imports.dfe.columns import ColumnSpec

# Subgroup: (KS4 column suffix, KS4 cohort columns)
_KS4_GROUPS = {
    "all": ("", ("TPUP",)),
    "boys": ("_BOYS", ("BPUP", "P8PUP_BOYS")),
    "girls": ("_GIRLS", ("GPUP", "P8PUP_GIRLS")),
    "disadvantaged": ("_FSM6CLA1A", ("TFSM6CLA1A", "P8PUP_FSM6CLA1A")),
    "not_disadvantaged": ("_NFSM6CLA1A", ("TNOTFSM6CLA1A", "P8PUP_NFSM6CLA1A")),
    "eal": ("_EAL", ("TEALGRP2", "P8PUP_EAL")),
    "low_prior": ("_LO", ("P8PUP_LO",)),
    "middle_prior": ("_AV", ("P8PUP_AV",)),
    "high_prior": ("_HI", ("P8PUP_HI",)),
    "non_mobile": ("_NMOB", ("P8PUP_NMOB",)),
}


def ks4_specs() -> list[ColumnSpec]:
    specs = []
    for subgroup, (suffix, cohort) in _KS4_GROUPS.items():
        specs.append(ColumnSpec("ks4_att8", subgroup, "ATT8SCR" + suffix, cohort=cohort))
        specs.append(ColumnSpec("ks4_ebacc_aps", subgroup, "EBACCAPS" + suffix, cohort=cohort))
        progress_cohort = ("P8PUP" + suffix, *cohort)
        specs.append(
            ColumnSpec("ks4_p8", subgroup, "P8MEA" + suffix, "P8CILOW" + suffix, "P8CIUPP" + suffix, progress_cohort)
        )
    em = {
        "all": "PTL2BASICS_{}",
        "disadvantaged": "PTFSM6CLA1ABASICS_{}",
        "eal": "PTL2BASICSEAL_{}",
        "non_mobile": "PTL2BASICSNMOB_{}",
    }
    for subgroup, pattern in em.items():
        cohort = _KS4_GROUPS[subgroup][1]
        specs.append(ColumnSpec("ks4_em4", subgroup, pattern.format(94), cohort=cohort))
        specs.append(ColumnSpec("ks4_em5", subgroup, pattern.format(95), cohort=cohort))
    specs.append(ColumnSpec("ks4_ebacc_entry", "all", "PTEBACC_E_PTQ_EE", cohort=("TPUP",)))
    specs.append(ColumnSpec("ks4_att8_dis_gap", "all", "DIFFN_ATT8", cohort=("TFSM6CLA1A",)))
    return specs
