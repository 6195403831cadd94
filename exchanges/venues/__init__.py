"""Venue adapters: pure Python, no Django. Normalized types in, normalized types out.

`base` holds the types and protocols every adapter speaks; `registry` finds an adapter by venue;
one folder per venue knows that venue's wire format and nothing outside it does.
"""
