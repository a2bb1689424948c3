"""Fangkong (防控): county command platform for epidemic prevention and control."""
