"""FINRA 4210(e)(2) exempted securities: US Treasury notes and bonds."""
