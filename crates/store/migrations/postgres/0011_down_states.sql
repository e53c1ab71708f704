-- Pages count the equipment down per site (the portal's and the console's site lists): the
-- few checks down, found without reading every check's state.
CREATE INDEX check_states_down ON check_states(equipment_ref) WHERE status = 'down';
