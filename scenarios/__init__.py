"""Certification scenarios: scripted checks of a real MIS against a running medstand, over HTTP only."""
