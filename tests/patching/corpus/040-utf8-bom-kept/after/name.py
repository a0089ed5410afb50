# -*- coding: utf-8 -*-
NAME = 'y'
