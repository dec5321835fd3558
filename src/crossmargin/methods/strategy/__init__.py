"""Strategy-based margin: Reg T, FINRA Rule 4210 and the Cboe strategy rules."""
