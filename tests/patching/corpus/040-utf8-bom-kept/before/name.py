# -*- coding: utf-8 -*-
NAME = 'x'
