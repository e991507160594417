# Import by full_name (the name as stored, prefix included).
terraform import llmsecret_secret.openai OPENAI_API_KEY
