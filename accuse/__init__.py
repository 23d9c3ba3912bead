"""accuse: lit l'accusé de traitement de la Caisse des Dépôts et aide à corriger les refus."""

__version__ = "0.1.0"
