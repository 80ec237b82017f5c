"""Personal data (개인정보): masking, consent, access records, the citizen's rights."""
