"""Auditing a written solution: its math read with lines (`document`), split into claims (`claims`)."""
