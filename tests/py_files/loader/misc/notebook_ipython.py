import numpy as np
get_ipython().run_line_magic('matplotlib', 'inline')
