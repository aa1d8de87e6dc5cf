"""Privacy-preserving record linkage: the same person gets the same partnership person id in every agency's
records, though no agency shares who they are.

- :mod:`.standardise` puts each linkage field (names, date of birth, sex, postcode, NHS number, UPN, PNC ID) in
  one form;
- :mod:`.tokens` turns them into keyed tokens (HMAC with the partnership's linkage key), the raw values dropped;
- :mod:`.index` keeps the tokens in the restricted ``linkage`` schema, which only the loader can read;
- :mod:`.matching` links records: deterministic rules, then Fellegi-Sunter match weights on the tokens (m
  estimated by EM, u from random pairs), clusters with person ids that are stable across loads;
- :mod:`.quality` measures the linkage against a known truth (precision, recall, F1 per agency pair) and its
  bias (match rate by ethnic group, sex and age band).
"""
