PATTERN = ur'\d+'
