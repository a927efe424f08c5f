"""Formulas that more than one sheet writes: the statement and the channel workbook's Partners
sheet give every partner the same way up (O5)."""

from __future__ import annotations


def sales_to_next_formula(points: str, bonus: str) -> str:
    """rules.sales_to_next as a formula over the points-to-next cell and a "yes"/"no" bonus
    cell: the cheaper of the two candidate sales around the crossing (-INT(-x) rounds up)."""
    need = f"(-INT(-{points}))"
    steps = f"MAX(0,INT({need}*USD_PER_POINT/(BONUS_PER_USD+BONUS_POINTS*USD_PER_POINT)))"

    def candidate(m: str) -> str:
        return f"MAX(-INT(-{m}*BONUS_PER_USD),-INT(-MAX(0,{need}-BONUS_POINTS*{m})*USD_PER_POINT))"

    return (f'=IF({points}="","",IF({points}<=0,0,IF({bonus}="yes",'
            f"MIN({candidate(steps)},{candidate(f'({steps}+1)')}),-INT(-{need}*USD_PER_POINT))))")
