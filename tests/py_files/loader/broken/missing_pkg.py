import numpy as np
import numpy_missing_for_corrcheck_tests as nm
