export function CallJourney(_p: any) { return <p>TODO</p>; }
