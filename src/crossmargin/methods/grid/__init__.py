"""methods grid."""
