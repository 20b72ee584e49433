"""Showback / chargeback: Admin API usage and cost split to teams, features and envs, per month."""
