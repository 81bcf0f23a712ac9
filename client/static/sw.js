const CACHE = 'app-__BUILD__';
